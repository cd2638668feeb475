import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/schema.js';
import { AllowAllPolicy, type PolicyEngine } from './engine.js';
import { OpaPolicy } from './opa.js';
import { RulesPolicy } from './rules.js';

/** The policy engine the configuration asks for. */
export function createPolicy(cfg: GatewayConfig['policy'], dispatcher: Dispatcher, logger: Logger): PolicyEngine {
  switch (cfg.engine) {
    case 'allow-all':
      return new AllowAllPolicy();
    case 'rules':
      return new RulesPolicy(cfg);
    case 'opa':
      return new OpaPolicy(cfg, dispatcher, logger);
  }
}
