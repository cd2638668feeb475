import { randomBytes } from 'node:crypto';
import type { Decision } from './decision.js';

/** The request header carrying a ticket from ext_proc to the broker (an `x-mcp-gateway-*` header). */
export const HANDOFF_HEADER = 'x-mcp-gateway-admitted';

/**
 * Decisions admitted once and carried out by another adapter of the same core: in the Envoy
 * topology ext_proc admits a request and Envoy forwards it to the broker, which would otherwise
 * verify the token, read the session and ask the policy all over again. The ticket travels in a
 * header only the gateway sets (ext_proc strips client copies); it is 128 random bits, good once,
 * for a short while. A broker that does not hold the ticket (another process) admits again.
 */
export class DecisionHandoff {
  private readonly tickets = new Map<string, { decision: Decision; expires: number }>();

  constructor(
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keep a decision for the adapter that carries it out; returns its ticket. */
  put(decision: Decision): string {
    this.sweep();
    const ticket = randomBytes(16).toString('base64url');
    this.tickets.set(ticket, { decision, expires: this.now() + this.ttlMs });
    return ticket;
  }

  /** The decision a ticket stands for, once; undefined for unknown, used or expired tickets. */
  take(ticket: string | undefined): Decision | undefined {
    if (ticket === undefined) return undefined;
    const held = this.tickets.get(ticket);
    if (!held) return undefined;
    this.tickets.delete(ticket);
    return held.expires > this.now() ? held.decision : undefined;
  }

  get size(): number {
    return this.tickets.size;
  }

  /** Drop expired tickets (a request Envoy never forwarded); insertion order is expiry order. */
  private sweep(): void {
    const now = this.now();
    for (const [ticket, held] of this.tickets) {
      if (held.expires > now) break;
      this.tickets.delete(ticket);
    }
  }
}
