import type { GatewayConfig } from '../config/schema.js';
import type { PolicyDecision, PolicyEngine } from './engine.js';
import type { PolicyInput, PolicyItem, PolicySubject } from './input.js';
import { globMatcher } from '../glob.js';
import { confirmation } from './confirm-rule.js';

type RulesConfig = Extract<GatewayConfig['policy'], { engine: 'rules' }>;
type Rule = RulesConfig['rules'][number];

/** Which list of a rule names what a request asks for. */
type Field = 'tools' | 'resources' | 'prompts' | 'relays';

/**
 * The simple built-in policy: an ordered list of rules, each naming tools, resource URIs and
 * prompts (and the methods of backend requests to clients, `relays`) by glob and who may use them (roles, scopes, subjects or OAuth clients; any one match
 * is enough). The first rule whose glob matches decides; anything no rule matches is denied. A
 * rule's `confirm` makes the tool calls it allows wait for the user's confirmation. A
 * completion is decided as the prompt or resource template it completes.
 */
export class RulesPolicy implements PolicyEngine {
  private readonly rules: Array<{ match: Record<Field, (name: string) => boolean>; rule: Rule }>;

  constructor(cfg: RulesConfig) {
    this.rules = cfg.rules.map((rule) => ({
      match: { tools: globMatcher(rule.tools), resources: globMatcher(rule.resources), prompts: globMatcher(rule.prompts), relays: globMatcher(rule.relays) },
      rule,
    }));
  }

  async decide(input: PolicyInput): Promise<PolicyDecision> {
    return this.check(input, input);
  }

  async visible(subject: PolicySubject, items: readonly PolicyItem[]): Promise<ReadonlySet<string>> {
    // A tool the caller may call once the user confirms is listed: listings carry no arguments to decide on.
    return new Set(items.filter((i) => usable(this.check(subject, i))).map((i) => i.request.name));
  }

  private check(s: PolicySubject, item: PolicyItem): PolicyDecision {
    const field: Field = item.relay ? 'relays' : item.prompt ? 'prompts' : item.resource ? 'resources' : 'tools';
    // Reasons reach the client: they name what it called, not a catalog name a virtual server may hide.
    const what = `${field.slice(0, -1)} "${item.request.calledAs ?? item.request.name}"`;
    // `request.name` is the catalog name: a virtual server's rename does not step around a rule.
    const found = this.rules.find((r) => r.match[field](item.request.name));
    // A backend's request to the client no rule names is allowed: rules written before relaying keep working.
    if (!found) return field === 'relays' ? { allow: true } : { allow: false, reason: `no rule covers ${what}` };
    const allow = found.rule.allow;
    if (allow === 'nobody') return { allow: false, reason: `${what} is disabled` };
    if (allow === 'anyone') return confirmation(found.rule.confirm, item) ?? { allow: true };
    const p = s.principal;
    const ok =
      (allow.roles ?? []).some((r) => p.roles.includes(r)) ||
      (allow.scopes ?? []).some((x) => p.scopes.includes(x)) ||
      (allow.subjects ?? []).includes(p.subject) ||
      (s.client.id !== null && (allow.clients ?? []).includes(s.client.id));
    if (!ok) return { allow: false, reason: `${what} needs ${describe(allow)}` };
    return confirmation(found.rule.confirm, item) ?? { allow: true };
  }
}

function usable(d: PolicyDecision): boolean {
  return d.allow || d.confirm !== undefined;
}

function describe(a: Exclude<Rule['allow'], string>): string {
  const parts: string[] = [];
  if (a.roles?.length) parts.push(`role ${a.roles.join(' or ')}`);
  if (a.scopes?.length) parts.push(`scope ${a.scopes.join(' or ')}`);
  if (a.subjects?.length) parts.push('a listed subject');
  if (a.clients?.length) parts.push('a listed client');
  return parts.join(', or ') || 'a rule that allows it';
}
