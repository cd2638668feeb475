import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

/** What a stateless client handles when a call needs its input, and what it was asked (by method). */
export interface ModernClientOptions {
  /** `pin`: 2026-07-28 only; `auto`: probe with server/discover, fall back to initialize; `legacy`: initialize only. */
  readonly mode: 'pin' | 'auto' | 'legacy';
  readonly capabilities?: Record<string, unknown>;
  readonly asked?: string[];
}

/**
 * The official 2.x SDK client (`@modelcontextprotocol/client` 2.4) as a user would set it up:
 * with handlers for sampling and elicitation when it declares them, so `input_required`
 * results are answered by the SDK's own multi-round-trip driver.
 */
export async function modernClient(url: string, opts: ModernClientOptions): Promise<Client> {
  const capabilities = opts.capabilities ?? {};
  const versionNegotiation = opts.mode === 'pin' ? { mode: { pin: '2026-07-28' } } : { mode: opts.mode };
  const client = new Client({ name: `modern-${opts.mode}`, version: '2.4.0' }, { capabilities, versionNegotiation } as never);
  if ('sampling' in capabilities) {
    client.setRequestHandler('sampling/createMessage', async (req) => {
      opts.asked?.push(req.method);
      const first = req.params.messages[0]?.content as { text?: string } | undefined;
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: `short: ${first?.text ?? '?'}` } };
    });
  }
  if ('elicitation' in capabilities) {
    client.setRequestHandler('elicitation/create', async (req) => {
      opts.asked?.push(req.method);
      return { action: 'accept', content: { name: 'Ada' } };
    });
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}
