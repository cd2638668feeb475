/**
 * `npm start`: the example backends (a REST API and an MCP SDK server) on free loopback ports,
 * and the gateway in front of them with examples/gateway.yaml.
 */
import { AddressInUseError } from '../src/listen-error.js';
import { runStandalone, type RunningGateway } from '../src/standalone/run.js';
import { startExampleStack } from './example-stack.js';

const stack = await startExampleStack();
let gateway: RunningGateway;
try {
  gateway = await runStandalone(stack.config);
} catch (err) {
  await stack.close();
  // examples/gateway.yaml takes its port from GATEWAY_PORT: say so rather than print a stack trace.
  if (!(err instanceof AddressInUseError)) throw err;
  process.stderr.write(`npm start: ${err.message}; pick another port with GATEWAY_PORT, e.g. GATEWAY_PORT=9000 npm start\n`);
  process.exit(3);
}

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
