import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, listen } from './listen.js';

/** A small order-management REST API, the example REST backend behind the gateway. */
export interface OrdersApi {
  readonly url: string;
  /** Requests served, by "METHOD /path-pattern"; tests use it to prove side effects are not duplicated. */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

interface Order {
  id: string;
  item: string;
  quantity: number;
  status: 'open' | 'cancelled';
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function json(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function startOrdersApi(opts: { port?: number; host?: string; name?: string } = {}): Promise<OrdersApi> {
  const orders = new Map<string, Order>([
    ['1001', { id: '1001', item: 'keyboard', quantity: 1, status: 'open' }],
    ['1002', { id: '1002', item: 'monitor', quantity: 2, status: 'open' }],
  ]);
  let nextId = 1003;
  const calls = new Map<string, number>();
  const count = (key: string): void => void calls.set(key, (calls.get(key) ?? 0) + 1);

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean);
    try {
      if (req.method === 'GET' && url.pathname === '/orders') {
        count('GET /orders');
        const status = url.searchParams.get('status');
        return send(res, 200, { orders: [...orders.values()].filter((o) => !status || o.status === status), instance: opts.name });
      }
      if (req.method === 'POST' && url.pathname === '/orders') {
        count('POST /orders');
        const body = await json(req);
        const order: Order = { id: String(nextId++), item: String(body.item), quantity: Number(body.quantity ?? 1), status: 'open' };
        orders.set(order.id, order);
        return send(res, 201, order);
      }
      if (parts[0] === 'orders' && parts[1] && parts.length === 2 && req.method === 'GET') {
        count('GET /orders/:id');
        const order = orders.get(parts[1]);
        return order ? send(res, 200, order) : send(res, 404, { error: `order ${parts[1]} not found` });
      }
      if (parts[0] === 'orders' && parts[1] && parts[2] === 'cancel' && req.method === 'POST') {
        count('POST /orders/:id/cancel');
        const order = orders.get(parts[1]);
        if (!order) return send(res, 404, { error: `order ${parts[1]} not found` });
        order.status = 'cancelled';
        return send(res, 200, order);
      }
      if (parts[0] === 'orders' && parts[1] && parts[2] === 'events' && req.method === 'GET') {
        count('GET /orders/:id/events');
        const steps = ['received', 'packed', 'shipped', 'delivered'];
        const delay = Number(url.searchParams.get('delayMs') ?? 50);
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        for (const step of steps) {
          res.write(`${JSON.stringify({ order: parts[1], event: step })}\n`);
          await new Promise((r) => setTimeout(r, delay));
        }
        return res.end();
      }
      send(res, 404, { error: 'no such route' });
    } catch (err) {
      send(res, 400, { error: (err as Error).message });
    }
  });
  const url = await listen(server, opts.port, opts.host);
  return { url, calls, close: () => closeServer(server) };
}
