import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import { packageFile } from '../package-file.js';

export type OpaConfig = Extract<GatewayConfig['policy'], { engine: 'opa' }>;

/** One Rego module the gateway gives OPA, pushed over its REST API or packed into the bundle. */
export interface GatewayModule {
  /** Policy id in OPA (push), and the file name in the bundle (`<id>.rego`). */
  readonly id: string;
  readonly text: () => Promise<string>;
  /** The service a snippet speaks for: it must declare `package mcp.services.<service>`. */
  readonly service?: string;
}

/** Where the gateway's base Rego module ships, from the package root. */
export const BASE_MODULE_FILE = 'src/policy/base.rego';

/** The id of the gateway's base module: its presence says OPA still holds what the gateway gave it. */
export const BASE_MODULE = 'mcp-gateway-base';

/**
 * Rego package a service's snippet must declare, so it can only speak for its own service: `mcp.services.orders`,
 * or `mcp.services["order-service"]` for a name that is no Rego identifier (Consul names often have hyphens).
 */
const SERVICE_PACKAGE = /^\s*package\s+mcp\.services(?:\.([A-Za-z_][A-Za-z0-9_]*)|\["([^"]+)"\])\s*$/m;
/** A module's package declaration (dotted form, as the gateway's and its examples' modules write it). */
const PACKAGE = /^\s*package\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(?:#.*)?$/m;

/** The base module, the global policy files and the configured service snippets, in load order. */
export function configuredModules(cfg: OpaConfig): GatewayModule[] {
  return [
    { id: BASE_MODULE, text: async () => packageFile(BASE_MODULE_FILE) },
    ...cfg.policyFiles.map((f) => ({ id: `mcp-gateway-file-${basename(f)}`, text: () => readFile(f, 'utf8') })),
    ...Object.entries(cfg.servicePolicies).map(([service, f]) => ({ id: `mcp-gateway-service-${service}`, text: () => readFile(f, 'utf8'), service })),
  ];
}

/** The id of a service's snippet published in Consul KV. */
export function kvModuleId(service: string): string {
  return `mcp-gateway-kv-${service}`;
}

/** Whether a snippet declares its own service's package (a service cannot speak for another). */
export function declaresOwnPackage(rego: string, service: string): boolean {
  const m = SERVICE_PACKAGE.exec(rego);
  return m !== null && (m[1] ?? m[2]) === service;
}

/** The data path a module's package lives under (`mcp.policy` → `mcp/policy`), or undefined when none is declared plainly. */
export function packagePath(rego: string): string | undefined {
  const sp = SERVICE_PACKAGE.exec(rego);
  if (sp) return 'mcp/services';
  return PACKAGE.exec(rego)?.[1]?.replaceAll('.', '/');
}

/**
 * The snippet with its package renamed into a scratch namespace, so OPA can compile it outside the
 * bundle's roots (OPA refuses API writes under a bundle's roots) without it deciding anything.
 */
export function scratchCopy(rego: string, scratchPackage: string): string {
  return rego.replace(SERVICE_PACKAGE, `package ${scratchPackage}`);
}
