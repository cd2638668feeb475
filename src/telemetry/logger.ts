import { pino, type Logger } from 'pino';

/** The process logger: JSON lines on stdout; per-request detail stays at debug to keep hot paths quiet. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const opts = { level, base: { service: 'mcp-gateway' } };
  return destination ? pino(opts, destination) : pino(opts);
}
