import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { promtoolBin } from '../harness/components.js';
import { runToEnd } from '../harness/process.js';

const path = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));

/** The alert rules under deploy/prometheus, checked by Prometheus's own tool (scripts/install-components.sh builds it). */
describe('Prometheus alert rules', () => {
  it('are valid rules for Prometheus (promtool check rules)', async () => {
    const r = await runToEnd(promtoolBin(), ['check', 'rules', path('deploy/prometheus/mcp-gateway-rules.yaml')], { timeoutMs: 60_000 });
    expect(r.output).toContain('SUCCESS');
    expect(r.code, r.output).toBe(0);
  });

  it('fire as their unit tests expect on series shaped like a scraped gateway (promtool test rules)', async () => {
    const r = await runToEnd(promtoolBin(), ['test', 'rules', path('deploy/prometheus/mcp-gateway-rules.test.yaml')], { timeoutMs: 60_000 });
    expect(r.code, r.output).toBe(0);
  });
});
