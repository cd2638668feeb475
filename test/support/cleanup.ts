import { afterEach } from 'vitest';

type Stop = () => Promise<void> | void;

/**
 * What a test started is stopped after it, last started first. Call once per test file; the
 * returned function registers one stop.
 */
export function stopAfterEach(): (stop: Stop) => void {
  const stops: Stop[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  return (stop) => void stops.push(stop);
}
