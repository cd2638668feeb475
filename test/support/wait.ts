/**
 * Poll until `cond` holds, failing with `what` after `timeoutMs`. Tests assert behaviour that
 * arrives asynchronously this way; the bound is generous, never a performance target.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000, intervalMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`not in time: ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
