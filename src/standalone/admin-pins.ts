import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator } from '../auth/authenticator.js';
import { missingScopes } from '../auth/caller.js';
import { ERRORS, GatewayError, wireError, type ErrorCode } from '../errors.js';
import type { DefinitionPins } from '../pinning/pins.js';
import { readBody } from './body.js';
import { writeJson } from './write.js';

/** Where the approval endpoints live on the admin listener. */
export const PINS_PATH = '/admin/pins';
const MAX_BODY_BYTES = 16_384;

/**
 * The approval endpoints of pinned definitions: `GET /admin/pins/pending` lists what drifted or
 * awaits approval, `POST /admin/pins/approve` (`{"key", "digest"}`) approves one. Unlike the
 * other admin endpoints they change what clients are shown, so each request needs a bearer token
 * verified as client tokens are, carrying `pinning.adminScope`.
 */
export class PinAdmin {
  constructor(
    private readonly pins: DefinitionPins,
    private readonly authenticator: Authenticator,
    private readonly scope: string,
  ) {}

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const headers = { ...req.headers } as Record<string, string | undefined>;
    const auth = await this.authenticator.authenticate({ headers, url: req.url ?? '/' });
    if (!auth.ok) return refuse(res, auth.code, auth.detail, auth.headers);
    const missing = missingScopes(auth.caller, [this.scope]);
    if (missing.length > 0) {
      const no = this.authenticator.insufficientScope({ headers }, missing);
      return refuse(res, no.code, no.detail ?? `needs scope ${this.scope}`, no.headers);
    }
    if (path === `${PINS_PATH}/pending` && req.method === 'GET') {
      return writeJson(res, 200, JSON.stringify({ store: this.pins.storeKind, pending: this.pins.pending() }), { 'cache-control': 'no-store' });
    }
    if (path === `${PINS_PATH}/approve` && req.method === 'POST') {
      const body = await readBody(req, MAX_BODY_BYTES);
      const ask = parseApproval(body.truncated ? undefined : body.text);
      if (typeof ask === 'string') return refuse(res, 'GW_INVALID_REQUEST', ask);
      const { principal } = auth.caller;
      try {
        const f = await this.pins.approve(ask.key, ask.digest, `${principal.issuer ?? ''}#${principal.subject}`);
        return writeJson(res, 200, JSON.stringify({ approved: { key: f.key, digest: f.digest, previous: f.approvedDigest } }));
      } catch (err) {
        if (err instanceof GatewayError) return refuse(res, err.code, err.detail);
        throw err;
      }
    }
    return writeJson(res, 404, JSON.stringify({ error: 'not found', endpoints: [`GET ${PINS_PATH}/pending`, `POST ${PINS_PATH}/approve`] }));
  }
}

function refuse(res: ServerResponse, code: ErrorCode, detail: string | undefined, headers: Record<string, string> = {}): void {
  writeJson(res, ERRORS[code].status, JSON.stringify(wireError(code, null, detail)), headers);
}

/** `{"key": "tool/<backend>/<name>", "digest": "sha256:…"}`, or what is wrong with the body. */
function parseApproval(text: string | undefined): { key: string; digest: string } | string {
  if (text === undefined) return `the body must be a JSON object of at most ${MAX_BODY_BYTES} bytes`;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'the body is not JSON';
  }
  const { key, digest } = (v ?? {}) as { key?: unknown; digest?: unknown };
  if (typeof key !== 'string' || !/^(tool|prompt)\/[^/]+\/.+$/.test(key)) return '"key" must be "tool/<backend>/<name>" or "prompt/<backend>/<name>", as /admin/pins/pending lists it';
  if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) return '"digest" must be "sha256:" and 64 hex digits, as /admin/pins/pending lists it';
  return { key, digest };
}
