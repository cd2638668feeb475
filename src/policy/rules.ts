import type { CatalogTool } from '../catalog/model.js';
import type { GatewayConfig } from '../config/schema.js';
import type { PolicyDecision, PolicyEngine } from './engine.js';
import type { PolicyInput, PolicySubject } from './input.js';
import { globSource } from '../glob.js';

type RulesConfig = Extract<GatewayConfig['policy'], { engine: 'rules' }>;
type Rule = RulesConfig['rules'][number];

function glob(pattern: string): RegExp {
  return new RegExp(`^${globSource(pattern)}$`);
}

/**
 * The simple built-in policy: an ordered list of rules, each naming tools by glob and who may
 * call them (roles, scopes, subjects or OAuth clients; any one match is enough). The first rule
 * whose glob matches the tool decides; a tool no rule matches is denied.
 */
export class RulesPolicy implements PolicyEngine {
  private readonly rules: Array<{ match: RegExp[]; rule: Rule }>;

  constructor(cfg: RulesConfig) {
    this.rules = cfg.rules.map((rule) => ({ match: rule.tools.map(glob), rule }));
  }

  async decide(input: PolicyInput): Promise<PolicyDecision> {
    return this.check(input, input.tool.name);
  }

  async visible(subject: PolicySubject, tools: readonly CatalogTool[]): Promise<ReadonlySet<string>> {
    return new Set(tools.filter((t) => this.check(subject, t.name).allow).map((t) => t.name));
  }

  private check(s: PolicySubject, tool: string): PolicyDecision {
    const found = this.rules.find((r) => r.match.some((m) => m.test(tool)));
    if (!found) return { allow: false, reason: `no rule covers tool "${tool}"` };
    const allow = found.rule.allow;
    if (allow === 'anyone') return { allow: true };
    if (allow === 'nobody') return { allow: false, reason: `tool "${tool}" is disabled` };
    const p = s.principal;
    const ok =
      (allow.roles ?? []).some((r) => p.roles.includes(r)) ||
      (allow.scopes ?? []).some((x) => p.scopes.includes(x)) ||
      (allow.subjects ?? []).includes(p.subject) ||
      (s.client.id !== null && (allow.clients ?? []).includes(s.client.id));
    return ok ? { allow: true } : { allow: false, reason: `tool "${tool}" needs ${describe(allow)}` };
  }
}

function describe(a: Exclude<Rule['allow'], string>): string {
  const parts: string[] = [];
  if (a.roles?.length) parts.push(`role ${a.roles.join(' or ')}`);
  if (a.scopes?.length) parts.push(`scope ${a.scopes.join(' or ')}`);
  if (a.subjects?.length) parts.push('a listed subject');
  if (a.clients?.length) parts.push('a listed client');
  return parts.join(', or ') || 'a rule that allows it';
}
