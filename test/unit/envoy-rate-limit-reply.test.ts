/**
 * Envoy, not gateway code, writes some answers (envoy/envoy.yaml `local_reply_config`): the rate
 * limiters', an oversized body's, and the one when no gateway replica can take a request. Each must stay its
 * registry entry and valid JSON-RPC.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ERRORS } from '../../src/errors.js';

const envoy = parse(readFileSync(new URL('../../envoy/envoy.yaml', import.meta.url), 'utf8'));
const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;

describe('the rate-limit answer in envoy/envoy.yaml', () => {
  it('is the registry entry GW_RATE_LIMITED, as JSON-RPC, with the id or null', () => {
    const bodies: string[] = hcm.local_reply_config.mappers
      .filter((m: any) => JSON.stringify(m.filter).includes('local_rate_limited'))
      .map((m: any) => m.body_format_override.text_format_source.inline_string);
    expect(bodies).toHaveLength(2);
    const filled = bodies.map((b) => JSON.parse(b.replace('%REQ(x-mcp-gateway-rpc-id)%', '"abc"').replace('%RESP(retry-after)%', '7')));
    for (const body of filled) {
      expect(body.error).toEqual({ code: ERRORS.GW_RATE_LIMITED.rpcCode, message: ERRORS.GW_RATE_LIMITED.message, data: { code: 'GW_RATE_LIMITED', retryAfterSeconds: 7 } });
    }
    expect(filled.map((b) => b.id)).toEqual(['abc', null]);
  });

  it("answers a body over Envoy's buffer with the registry's GW_PAYLOAD_TOO_LARGE", () => {
    const mapper = hcm.local_reply_config.mappers.find((m: any) => JSON.stringify(m.filter).includes('request_payload_too_large'));
    const body = JSON.parse(mapper.body_format_override.text_format_source.inline_string);
    expect(body).toEqual({ jsonrpc: '2.0', id: null, error: { code: ERRORS.GW_PAYLOAD_TOO_LARGE.rpcCode, message: ERRORS.GW_PAYLOAD_TOO_LARGE.message, data: { code: 'GW_PAYLOAD_TOO_LARGE' } } });
  });

  it("answers a request no gateway replica could take (ext_proc or the broker unreachable) with the registry's GW_UNAVAILABLE, with the id when ext_proc read it", () => {
    const mappers = hcm.local_reply_config.mappers.filter((m: any) => m.body_format_override.text_format_source.inline_string.includes('GW_UNAVAILABLE'));
    // ext_proc not asked (no id known), then the broker unreached with and without the id ext_proc read.
    expect(mappers.map((m: any) => JSON.stringify(m.filter))).toEqual([
      expect.stringContaining("startsWith('ext_proc') && !has(upstream.address)"),
      expect.stringContaining('x-mcp-gateway-rpc-id'),
      expect.not.stringContaining('x-mcp-gateway-rpc-id'),
    ]);
    for (const m of mappers.slice(1)) {
      const filters = m.filter.and_filter.filters;
      expect(filters.find((f: any) => f.response_flag_filter).response_flag_filter.flags).toEqual(['UF', 'UH', 'UO']);
      expect(JSON.stringify(filters)).toContain("xds.cluster_name == 'broker'");
    }
    const bodies = mappers.map((m: any) => JSON.parse(m.body_format_override.text_format_source.inline_string.replace('%REQ(x-mcp-gateway-rpc-id)%', '"abc"')));
    expect(bodies.map((b: any) => b.id)).toEqual([null, 'abc', null]);
    for (const [i, mapper] of mappers.entries()) {
      expect(mapper.status_code).toBe(ERRORS.GW_UNAVAILABLE.status);
      expect(mapper.headers_to_add.map((h: any) => [h.header.key, h.header.value])).toEqual([['retry-after', '1']]);
      expect(bodies[i].error).toEqual({ code: ERRORS.GW_UNAVAILABLE.rpcCode, message: ERRORS.GW_UNAVAILABLE.message, data: { code: 'GW_UNAVAILABLE' } });
    }
  });

  it('has every limiter say which limit refused and when to retry', () => {
    const limiters = hcm.http_filters.filter((f: any) => f.name.startsWith('mcp.ratelimit.'));
    expect(limiters.map((f: any) => f.name)).toEqual(['mcp.ratelimit.client', 'mcp.ratelimit.principal', 'mcp.ratelimit.tool']);
    for (const f of limiters) {
      const added = Object.fromEntries(f.typed_config.response_headers_to_add.map((h: any) => [h.header.key, h.header.value]));
      expect(added['x-mcp-gateway-rate-limited']).toBe(f.name.slice('mcp.ratelimit.'.length));
      expect(Number(added['retry-after'])).toBeGreaterThan(0);
    }
  });
});
