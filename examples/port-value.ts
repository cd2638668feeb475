/** A TCP port given as text (an environment variable, a flag): an integer 1-65535, or an error naming `what`. */
export function portValue(what: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new Error(`${what} must be a port number, got "${text}"`);
  return port;
}
