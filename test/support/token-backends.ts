/**
 * Backends that check the token they receive as a resource server would: a JWT verified against
 * the identity provider's keys, for their own audience. Each records every token it was sent, so
 * a test can say what reached it (and what never did).
 */
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { serveMcp } from '../../examples/backends/mcp-http.js';

export interface SeenToken {
  readonly token: string;
  /** The verified claims; undefined when verification failed (the request was refused). */
  readonly claims: JWTPayload | undefined;
}

export interface TokenBackend {
  /** REST: the base URL; MCP: the endpoint. */
  readonly url: string;
  /** Every bearer token sent to the tool, in order. */
  readonly seen: SeenToken[];
  close(): Promise<void>;
}

/** Verifies bearer tokens of `issuer` for `audience`; keeps what it saw in `seen`. */
function verifierFor(issuer: string, audience: string, seen: SeenToken[]): (authorization: string | undefined) => Promise<JWTPayload | undefined> {
  const keys = createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`));
  return async (authorization) => {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
    const claims = await jwtVerify(token, keys, { issuer, audience }).then(
      (r) => r.payload,
      () => undefined,
    );
    seen.push({ token, claims });
    return claims;
  };
}

/** A REST API whose `GET /whoami` answers the verified claims of the token it got, or 401. */
export async function startWhoamiRest(issuer: string, audience: string): Promise<TokenBackend> {
  const seen: SeenToken[] = [];
  const verify = verifierFor(issuer, audience, seen);
  const server = createServer((req, res) => {
    void verify(req.headers.authorization).then((claims) => {
      if (!claims) return void res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: claims.sub, aud: claims.aud, azp: claims.azp }));
    });
  });
  const url = await listen(server);
  return { url, seen, close: () => closeServer(server) };
}

/**
 * A native MCP SDK server whose tool `whoami` answers the verified claims of the token its
 * request carried (as the SDK hands the HTTP headers to the tool), or a tool error.
 */
export async function startWhoamiMcp(issuer: string, audience: string): Promise<TokenBackend> {
  const seen: SeenToken[] = [];
  const verify = verifierFor(issuer, audience, seen);
  const server = await serveMcp(() => {
    const mcp = new McpServer({ name: 'whoami', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'Who the token names', annotations: { readOnlyHint: true } }, async (extra) => {
      const claims = await verify(extra.requestInfo?.headers.authorization as string | undefined);
      if (!claims) return { isError: true, content: [{ type: 'text', text: 'invalid token' }] };
      return { content: [{ type: 'text', text: JSON.stringify({ sub: claims.sub, aud: claims.aud, azp: claims.azp }) }] };
    });
    return mcp;
  });
  return { url: server.url, seen, close: () => server.close() };
}
