import type { Dispatcher } from 'undici';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { isObject, isResponse, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { isSupportedVersion, LATEST_PROTOCOL_VERSION } from '../mcp/protocol.js';
import type { BackendSession } from '../session/store.js';
import { finishReply, postMessage, replyMessages, type McpEndpoint, type McpReply } from './mcp-wire.js';
import { instanceLabel } from './failover.js';

/**
 * The gateway's side of opening a session with a native backend, and plain request/response
 * exchanges in it: what client sessions' backend sessions and the gateway's own discovery
 * sessions share.
 */

let lastId = 0;

/** An id for a request the gateway sends a backend (its own, never a client's). */
export function nextRequestId(): string {
  return `gw-${++lastId}`;
}

/** Where a backend session lives, as an endpoint to talk to it with these headers. */
export function endpointOf(bs: BackendSession, headers: Record<string, string>): McpEndpoint {
  return { url: bs.instance, sessionId: bs.sessionId, protocolVersion: bs.protocolVersion, headers };
}

/** The initialize handshake declaring `clientCapabilities`, and the capabilities the backend declared in it. */
export async function handshake(dispatcher: Dispatcher, clientInfo: { name: string; version: string }, backend: McpBackendConfig, url: string, headers: Record<string, string>, signal: AbortSignal, clientCapabilities: Record<string, unknown> = {}): Promise<{ session: BackendSession; capabilities: Record<string, unknown> }> {
  const init: JsonRpcRequest = {
    jsonrpc: '2.0',
    id: nextRequestId(),
    method: 'initialize',
    params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: clientCapabilities, clientInfo },
  };
  const ep: McpEndpoint = { url, headers };
  const reply = await postMessage(dispatcher, ep, init, signal);
  if (reply.status !== 200) {
    await reply.body.dump();
    throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend "${backend.name}", ${instanceLabel(backend.urls, url)}, answered initialize with HTTP ${reply.status}`);
  }
  const result = await resultOf(reply, init.id);
  const version = result.protocolVersion;
  if (typeof version !== 'string' || !isSupportedVersion(version)) {
    throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend "${backend.name}" negotiated unsupported protocol version ${String(version)}`);
  }
  const bs: BackendSession = { instance: url, sessionId: reply.sessionId ?? null, protocolVersion: version };
  const ack = await postMessage(dispatcher, endpointOf(bs, headers), { jsonrpc: '2.0', method: 'notifications/initialized' }, signal);
  await ack.body.dump();
  return { session: bs, capabilities: isObject(result.capabilities) ? result.capabilities : {} };
}

/** A request/response exchange in a gateway-owned session (discovery). */
export async function request(dispatcher: Dispatcher, ep: McpEndpoint, method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
  const id = nextRequestId();
  const reply = await postMessage(dispatcher, ep, { jsonrpc: '2.0', id, method, params }, signal);
  if (reply.status !== 200) {
    await reply.body.dump();
    throw new GatewayError('GW_UPSTREAM_PROTOCOL', `${method} answered HTTP ${reply.status}`);
  }
  return resultOf(reply, id);
}

/** The result the backend answered to request `id` (its error as a GatewayError). */
export async function resultOf(reply: McpReply, id: string | number): Promise<Record<string, unknown>> {
  for await (const m of replyMessages(reply)) {
    if (!isResponse(m) || m.id !== id) continue;
    finishReply(reply);
    if ('error' in m) throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend error ${m.error.code}: ${m.error.message}`);
    return m.result;
  }
  throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'the backend closed the stream without answering');
}
