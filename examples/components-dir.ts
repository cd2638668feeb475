import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where scripts/install-components.sh installs the pinned real components:
 * `${MCP_GATEWAY_CACHE:-$HOME/.cache/mcp-gateway}/components`. One definition for the test harness
 * and `npm run topology` (examples do not import test code; tests may import examples).
 */
export function componentsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['MCP_GATEWAY_CACHE'] || join(homedir(), '.cache', 'mcp-gateway'), 'components');
}
