import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { readDocument } from '../../src/catalog/openapi/document.js';
import { createAgent } from '../../src/upstream/transport.js';

const ALL = { include: { tags: [], operations: [] }, exclude: { tags: [], operations: [] } };
const DOCUMENT = JSON.stringify({ openapi: '3.1.0', info: { title: 'x', version: '1' }, paths: {} });

let elsewhere: Server;
let elsewhereUrl: string;
let elsewhereHits = 0;
let registry: Server;
let registryUrl: string;
const agent = createAgent({ connectTimeoutMs: 2_000 });

beforeAll(async () => {
  elsewhere = createServer((_req, res) => {
    elsewhereHits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(DOCUMENT);
  });
  elsewhereUrl = await listen(elsewhere);
  registry = createServer((req, res) => {
    if (req.url === '/apis/moved.json') return void res.writeHead(302, { location: `${elsewhereUrl}/doc.json` }).end();
    if (req.url === '/apis/gone.json') return void res.writeHead(308, { location: '/apis/doc.json' }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(DOCUMENT);
  });
  registryUrl = await listen(registry);
});

afterAll(async () => {
  await agent.close();
  await closeServer(registry);
  await closeServer(elsewhere);
});

describe('reading a document from a URL', () => {
  const read = (url: string) => readDocument({ url, ...ALL }, { dispatcher: agent }, new AbortController().signal);

  it('reads the document the URL names', async () => {
    expect((await read(`${registryUrl}/apis/doc.json`)).text).toBe(DOCUMENT);
  });

  it('does not follow a redirect, to another host or the same one: the URL checked is the URL read', async () => {
    await expect(read(`${registryUrl}/apis/moved.json`)).rejects.toThrow(`URL ${registryUrl}/apis/moved.json answered HTTP 302 (redirects are not followed)`);
    await expect(read(`${registryUrl}/apis/gone.json`)).rejects.toThrow('answered HTTP 308 (redirects are not followed)');
    expect(elsewhereHits).toBe(0);
  });
});
