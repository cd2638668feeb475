/** MCP log levels, least severe first (RFC 5424 severities, as `logging/setLevel` names them). */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;

/**
 * Whether a `notifications/message` at `level` reaches a client that asked for `minimum`
 * (`logging/setLevel`); a client that never set a level gets every message, as before.
 */
export function logVisible(minimum: string | undefined, level: unknown): boolean {
  if (minimum === undefined) return true;
  const at = LOG_LEVELS.indexOf(level as (typeof LOG_LEVELS)[number]);
  const min = LOG_LEVELS.indexOf(minimum as (typeof LOG_LEVELS)[number]);
  return at < 0 || min < 0 || at >= min;
}
