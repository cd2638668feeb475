/**
 * DNS-rebinding protection for the conformance backends (both eras): a loopback server must refuse
 * requests whose Host, or Origin when there is one (browsers send it; other clients need not),
 * names another machine (dns-rebinding-protection scenario).
 */
import type { IncomingMessage } from 'node:http';
import { unbracket } from '../../src/net.js';

const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** True when `url` names this machine. */
function isLocal(url: string): boolean {
  try {
    return LOCAL_NAMES.has(unbracket(new URL(url).hostname).toLowerCase());
  } catch {
    return false;
  }
}

/** True when the request's Host, and its Origin if any, name this machine. */
export const fromThisMachine = (req: IncomingMessage): boolean =>
  isLocal(`http://${req.headers.host ?? ''}`) && (req.headers.origin === undefined || isLocal(req.headers.origin));
