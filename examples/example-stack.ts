/**
 * The example backends (orders REST API, notes MCP server) on free loopback ports, and
 * examples/gateway.yaml pointed at them: what `npm start` and `npm run topology` both run behind
 * their gateway.
 */
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../src/config/load.js';
import type { GatewayConfig } from '../src/config/schema.js';
import { startNotesServer, type NotesServer } from './backends/notes-mcp.js';
import { startOrdersApi, type OrdersApi } from './backends/orders-api.js';

/** The running example backends and the configuration that points at them. */
export interface ExampleStack {
  readonly orders: OrdersApi;
  readonly notes: NotesServer;
  /** examples/gateway.yaml with the backends' URLs (other `${VAR}`s from the environment). */
  readonly config: Readonly<GatewayConfig>;
  close(): Promise<void>;
}

/** examples/gateway.yaml, also the one description of the orders API's tools (serve.ts registers them in Consul). */
export const EXAMPLE_CONFIG_FILE = fileURLToPath(new URL('../../examples/gateway.yaml', import.meta.url));

/** Start both backends and load the configuration for them; nothing is left running if that fails. */
export async function startExampleStack(env: NodeJS.ProcessEnv = process.env): Promise<ExampleStack> {
  const orders = await startOrdersApi();
  const notes = await startNotesServer();
  const close = async (): Promise<void> => {
    await Promise.all([orders.close(), notes.close()]);
  };
  try {
    const config = await loadConfigFile(EXAMPLE_CONFIG_FILE, { ...env, ORDERS_API_URL: orders.url, NOTES_MCP_URL: notes.url });
    return { orders, notes, config, close };
  } catch (err) {
    await close();
    throw err;
  }
}
