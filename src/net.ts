/** Host names as URLs write them (IPv6 in brackets) and as sockets take them (without). */

/** `host` without the brackets a URL puts around an IPv6 address. */
export function unbracket(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** `host`, bracketed when it is an IPv6 address, as a URL or `host:port` needs it. */
export function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** `host:port`, with an IPv6 host bracketed. */
export function hostPort(host: string, port: number): string {
  return `${bracketed(host)}:${port}`;
}
