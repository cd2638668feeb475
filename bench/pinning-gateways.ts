/**
 * Child process of `bench/pinning.ts`: two gateways over the same 1,000 tools of 20 REST
 * backends (bench/configs.ts `listingConfig`, one page), identical but for `pinning.mode`: `off`
 * and `trust-on-first-use` (memory store), which approves all 1,000 at the first build.
 * Usage (forked): `pinning-gateways.js <stub-url>`. Reports `{ type: 'ready', urls }` over IPC once
 * the pinned gateway serves all 1,000 tools with nothing pending; answers `{ type: 'cpu' }`.
 */
import { runStandalone } from '../src/standalone/run.js';
import { LIST_BACKENDS, listingConfig, PINNING_ON, TOOLS_PER_BACKEND } from './configs.js';
import { hostGateways } from './gateway-child.js';

const TOOLS = LIST_BACKENDS * TOOLS_PER_BACKEND;

async function main(): Promise<void> {
  const [stub] = process.argv.slice(2);
  if (!stub || !process.send) throw new Error('usage: forked by bench/pinning.js with <stub-url>');
  const off = await runStandalone(listingConfig({ stub }, TOOLS));
  const pinned = await runStandalone(listingConfig({ stub }, TOOLS, PINNING_ON));
  const pins = pinned.core.pins;
  if (!pins) throw new Error('pinning is not on in the pinned gateway');
  // A pinned build waits for the first read of the approval store; until then its tools are hidden.
  for (const end = Date.now() + 20_000; pinned.core.catalog.current().tools.size !== TOOLS || pins.pending().length > 0; await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() > end) throw new Error(`the pinned gateway serves ${pinned.core.catalog.current().tools.size} of ${TOOLS} tools, ${pins.pending().length} pending, after 20 s`);
  }
  hostGateways({ off, pinned });
}

main().catch((err: unknown) => {
  console.error('pinning bench gateways failed:', err);
  process.exit(1);
});
