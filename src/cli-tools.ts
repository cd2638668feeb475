import { parseArgs } from 'node:util';

/**
 * `mcp-gateway tools pending|approve`: the operator's side of pinned definitions. It talks to a
 * running gateway's admin endpoint (`/admin/pins/…`), so approvals go through the same token
 * check and the same store as any other, and no store credentials sit on an operator's machine.
 */
export const TOOLS_USAGE = `usage: mcp-gateway tools pending --url <admin URL> [--json]
       mcp-gateway tools approve --url <admin URL> <key> [--digest sha256:…]
       mcp-gateway tools approve --url <admin URL> --all

  pending   list tools and prompts whose backend serves a definition other than the approved
            one (drifted), or that await a first approval (manual mode), with both definitions
  approve   approve what <key> (tool/<backend>/<name>, as pending lists it) serves now; with
            --digest only if it still serves exactly that; --all approves everything pending
  --url     the gateway's admin listener, e.g. http://127.0.0.1:9090
  The admin token (with pinning.adminScope) is read from MCP_GATEWAY_ADMIN_TOKEN.`;

/** A command line that cannot be used (exit code 2). */
export class ToolsUsageError extends Error {}

interface Finding {
  key: string;
  status: string;
  digest: string;
  approvedDigest: string | null;
  serving: string;
  since: string;
  definition: unknown;
  approvedDefinition: unknown;
}

/** Run `tools …`; resolves with the exit code. */
export async function toolsCommand(args: string[], env: NodeJS.ProcessEnv = process.env, out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { url: { type: 'string' }, digest: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  if (sub !== 'pending' && sub !== 'approve') throw new ToolsUsageError(`${sub ? `unknown tools command "${sub}"\n` : ''}${TOOLS_USAGE}`);
  if (!values.url) throw new ToolsUsageError(`missing --url\n${TOOLS_USAGE}`);
  const token = env.MCP_GATEWAY_ADMIN_TOKEN;
  if (!token) throw new ToolsUsageError('MCP_GATEWAY_ADMIN_TOKEN is not set: it must hold a token with the gateway\'s pinning.adminScope');
  const base = `${values.url.replace(/\/+$/, '')}/admin/pins`;
  const call = async (path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${base}/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${json.error?.message ?? 'no reason given'}`);
    return json;
  };
  const pending = ((await call('pending')) as { pending: Finding[] }).pending;
  if (sub === 'pending') {
    if (values.json) out(`${JSON.stringify(pending, null, 2)}\n`);
    else out(pending.length === 0 ? 'nothing pending\n' : pending.map(describe).join('\n'));
    return 0;
  }
  const chosen = values.all ? pending : pending.filter((f) => f.key === positionals[0]);
  if (!values.all && positionals.length !== 1) throw new ToolsUsageError(`approve needs one key or --all\n${TOOLS_USAGE}`);
  if (chosen.length === 0) throw new Error(values.all ? 'nothing pending' : `nothing pending under "${positionals[0]}"`);
  for (const f of chosen) {
    const digest = values.digest ?? f.digest;
    await call('approve', { key: f.key, digest });
    out(`approved ${f.key} ${digest}\n`);
  }
  return 0;
}

function describe(f: Finding): string {
  const head = `${f.key}  ${f.status}  serving: ${f.serving}  since ${f.since}\n  backend serves ${f.digest}\n`;
  const approved = f.approvedDigest ? `  approved       ${f.approvedDigest}\n  approved definition: ${JSON.stringify(f.approvedDefinition)}\n` : '';
  return `${head}${approved}  served definition:   ${JSON.stringify(f.definition)}\n`;
}
