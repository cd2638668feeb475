/**
 * `npm start`: the example backends (a REST API and an MCP SDK server) on free loopback ports,
 * and the gateway in front of them with examples/gateway.yaml.
 */
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../src/config/load.js';
import { runStandalone } from '../src/standalone/run.js';
import { startNotesServer } from './backends/notes-mcp.js';
import { startOrdersApi } from './backends/orders-api.js';

const orders = await startOrdersApi();
const notes = await startNotesServer();
const configFile = fileURLToPath(new URL('../../examples/gateway.yaml', import.meta.url));
const config = await loadConfigFile(configFile, { ...process.env, ORDERS_API_URL: orders.url, NOTES_MCP_URL: notes.url });
const gateway = await runStandalone(config);

process.stdout.write(`
MCP gateway ready at ${gateway.url}
  backends: orders (REST) at ${orders.url}, notes (MCP) at ${notes.url}
  try it:   npx @modelcontextprotocol/inspector  → Streamable HTTP → ${gateway.url}
  stop:     Ctrl+C
`);

const stop = async (): Promise<void> => {
  await gateway.stop();
  await Promise.all([orders.close(), notes.close()]);
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
