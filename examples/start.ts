/**
 * `npm start`: the example backends (a REST API and an MCP SDK server) on free loopback ports,
 * and the gateway in front of them with examples/gateway.yaml.
 */
import { runStandalone } from '../src/standalone/run.js';
import { startExampleStack } from './example-stack.js';

const stack = await startExampleStack();
const gateway = await runStandalone(stack.config);

process.stdout.write(`
MCP gateway ready at ${gateway.url}
  backends: orders (REST) at ${stack.orders.url}, notes (MCP) at ${stack.notes.url}
  try it:   npx @modelcontextprotocol/inspector  → Streamable HTTP → ${gateway.url}
  stop:     Ctrl+C
`);

const stop = async (): Promise<void> => {
  await gateway.stop();
  await stack.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
