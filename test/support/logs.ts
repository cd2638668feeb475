import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/telemetry/logger.js';

/** A logger whose lines a test can read back, parsed (`level`, `msg` and the logged fields). */
export function capturingLogger(level = 'warn'): { logger: Logger; lines: () => Array<Record<string, unknown>>; clear: () => void } {
  const out: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (out.push(String(chunk)), done()) });
  return { logger: createLogger(level, sink), lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>), clear: () => void (out.length = 0) };
}
