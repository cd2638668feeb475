import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { CombinedSource } from './combined.js';
import { ConsulSource } from './consul/source.js';
import { StaticSource, type CatalogSource } from './source.js';

/** The catalog source the configuration asks for: the configured backends, plus Consul when `catalog.consul` is set. */
export function openCatalogSource(config: Readonly<GatewayConfig>, logger: Logger): CatalogSource {
  const configured = new StaticSource(config.backends);
  const consul = config.catalog.consul;
  if (!consul) return configured;
  return new CombinedSource([
    { label: 'configuration', source: configured },
    { label: 'consul', source: new ConsulSource(consul, logger.child({ component: 'consul' })) },
  ]);
}
