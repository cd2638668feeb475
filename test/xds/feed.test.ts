/**
 * The feed between the catalog's backend list and the xDS server: it serves the current list at
 * start, and a burst of changes during a slow name resolution ends with the latest list served,
 * without serving the ones it superseded. Names are resolved again on their own, and a name that
 * stops resolving keeps its last addresses. (The resolver is injected: DNS answers cannot be
 * changed on this machine.)
 */
import { describe, expect, it } from 'vitest';
import type { BackendDescriptor } from '../../src/catalog/model.js';
import { backendSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/telemetry/logger.js';
import type { XdsSnapshot } from '../../src/xds/clusters.js';
import { XdsFeed } from '../../src/xds/feed.js';
import { waitFor } from '../support/wait.js';

const backends = (host: string): BackendDescriptor[] => [backendSchema.parse({ name: 'docs', kind: 'mcp', urls: [`http://${host}:3000/mcp`] })];

/** The two catalog methods the feed uses, driven by the test. */
function catalogOf(initial: BackendDescriptor[]) {
  const listeners = new Set<(b: readonly BackendDescriptor[]) => void>();
  return {
    backendList: () => initial,
    onBackendsChange(l: (b: readonly BackendDescriptor[]) => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    emit: (b: BackendDescriptor[]) => listeners.forEach((l) => l(b)),
  };
}

describe('XdsFeed', () => {
  it('serves the current backends at start, then only the latest of a burst of changes', async () => {
    const served: XdsSnapshot[] = [];
    const addresses: Record<string, string> = { first: '10.0.0.1', second: '10.0.0.2', third: '10.0.0.3', fourth: '10.0.0.4' };
    let gate: Promise<void> = Promise.resolve();
    const catalog = catalogOf(backends('first'));
    const feed = new XdsFeed({
      catalog,
      server: { update: (s) => void served.push(s) },
      logger: createLogger('silent'),
      resolve: async (host) => (await gate, [addresses[host]!]),
    });
    await feed.start();
    expect(served.map((s) => s.clusters[0]!.endpoints[0]!.address)).toEqual(['10.0.0.1']);

    let open!: () => void;
    gate = new Promise((r) => (open = r));
    catalog.emit(backends('second'));
    catalog.emit(backends('third'));
    catalog.emit(backends('fourth'));
    open();
    await waitFor(() => served.length === 3, 'the burst is served');
    expect(served.map((s) => s.clusters[0]!.endpoints[0]!.address)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4']);

    feed.stop();
    catalog.emit(backends('third'));
    catalog.emit(backends('first'));
    await new Promise((r) => setImmediate(r));
    expect(served).toHaveLength(3);
  });

  it('follows a hostname to new addresses without a catalog change, and keeps the last ones when it stops resolving', async () => {
    const served: XdsSnapshot[] = [];
    let answer: string[] | Error = ['10.0.0.1'];
    const feed = new XdsFeed({
      catalog: catalogOf(backends('docs.internal')),
      server: { update: (s) => void served.push(s) },
      logger: createLogger('silent'),
      refreshMs: 20,
      resolve: async () => {
        if (answer instanceof Error) throw answer;
        return answer;
      },
    });
    const endpoints = (): string[] => served.at(-1)!.clusters[0]!.endpoints.map((e) => e.address);
    await feed.start();
    expect(endpoints()).toEqual(['10.0.0.1']);
    answer = ['10.0.0.7', '10.0.0.8'];
    await waitFor(() => endpoints().join() === '10.0.0.7,10.0.0.8', 'the new addresses served');
    answer = Object.assign(new Error('getaddrinfo EAI_AGAIN docs.internal'), { code: 'EAI_AGAIN' });
    const before = served.length;
    await waitFor(() => served.length >= before + 2, 'two more resolutions');
    expect(endpoints()).toEqual(['10.0.0.7', '10.0.0.8']);
    feed.stop();
  });
});
