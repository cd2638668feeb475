import type { Dispatcher } from 'undici';

/** What OPA answered: the status and the body. */
export interface OpaAnswer {
  readonly status: number;
  readonly text: string;
}

/**
 * OPA's REST API as the gateway uses it: decisions, policy modules, bundle status. One origin,
 * the gateway's dispatcher, a deadline on every request. A network failure or a deadline rejects;
 * any HTTP answer resolves, and the caller reads its status.
 */
export class OpaApi {
  private readonly origin: string;

  constructor(
    url: string,
    private readonly dispatcher: Dispatcher,
  ) {
    this.origin = new URL(url).origin;
  }

  async send(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, timeoutMs: number, body?: { readonly type: string; readonly text: string }): Promise<OpaAnswer> {
    const res = await this.dispatcher.request({
      origin: this.origin,
      path,
      method,
      ...(body ? { headers: { 'content-type': body.type }, body: body.text } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  /** The path of a policy module by its id. */
  static policy(id: string): string {
    return `/v1/policies/${encodeURIComponent(id)}`;
  }
}
