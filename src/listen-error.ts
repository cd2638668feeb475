/**
 * A listener that cannot bind because its address is taken. Node's own error (a stack trace
 * naming `setupListenHandle`) and grpc-js's ("No address added out of total 1 resolved") do not
 * say which of the gateway's listeners failed, so every listener's start goes through
 * `listening()`, and whoever runs the gateway (the CLI, `npm start`) can name the option that
 * moves that listener.
 */
import { hostPort } from './net.js';

/** The gateway's listeners, as the CLI and `npm start` name them. */
export type ListenerName = 'mcp' | 'broker' | 'admin' | 'extproc' | 'xds';

const ROLES: Record<ListenerName, string> = {
  mcp: 'the MCP endpoint',
  broker: 'the broker (MCP behind Envoy)',
  admin: 'the admin endpoints (health, metrics)',
  extproc: 'the ext_proc gRPC service',
  xds: 'the xDS server',
};

/** A listener's address is in use (`EADDRINUSE`); `listener` says which one. */
export class AddressInUseError extends Error {
  readonly code = 'EADDRINUSE';
  constructor(
    readonly listener: ListenerName,
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(`cannot listen on ${hostPort(host, port)} for ${ROLES[listener]}: the address is already in use`, options);
    this.name = 'AddressInUseError';
  }
}

/** Whether `err` is Node's or grpc-js's way of saying the address is taken. */
function inUse(err: unknown): boolean {
  if ((err as { code?: unknown } | null)?.code === 'EADDRINUSE') return true;
  // grpc-js folds the socket error into its message and sets no code.
  return err instanceof Error && /\bEADDRINUSE\b/.test(err.message);
}

/** Start a listener on `host:port`; an address in use becomes an `AddressInUseError` naming the listener. */
export async function listening<T>(listener: ListenerName, host: string, port: number, start: (host: string, port: number) => Promise<T>): Promise<T> {
  try {
    return await start(host, port);
  } catch (err) {
    throw inUse(err) ? new AddressInUseError(listener, host, port, { cause: err }) : err;
  }
}
