import type { CatalogTool } from '../catalog/model.js';
import type { Confirmation } from '../policy/engine.js';
import type { Redactor } from '../telemetry/redact.js';
import { CONFIRM_FIELD } from './outcome.js';

/** Longest argument summary shown: the user must be able to read it, and a form is no place for a document. */
const MAX_ARGUMENTS = 2_000;

/**
 * The form-mode `elicitation/create` params that ask the user to confirm a call: a summary of
 * the tool (its title when it has one), its backend, its arguments as the audit trail records
 * them (redacted by `audit.redact`: a secret in the arguments is not shown on a screen either),
 * the policy's message, and one boolean to tick. Form mode is the default mode, so `mode` is
 * left out for clients of revisions before it existed.
 */
export function confirmationForm(tool: CatalogTool, args: Readonly<Record<string, unknown>>, confirm: Confirmation, redact: Redactor): Record<string, unknown> {
  const title = typeof tool.definition.title === 'string' ? ` (${tool.definition.title})` : '';
  let shown = JSON.stringify(redact(args), null, 2);
  if (shown.length > MAX_ARGUMENTS) shown = `${shown.slice(0, MAX_ARGUMENTS)}… (shortened)`;
  const lines = [
    `Confirm this tool call before the gateway sends it on.`,
    ...(confirm.message ? ['', confirm.message] : []),
    '',
    `Tool: ${tool.name}${title}`,
    `Backend: ${tool.backend}`,
    `Arguments: ${shown}`,
  ];
  return {
    message: lines.join('\n'),
    requestedSchema: {
      type: 'object',
      properties: {
        [CONFIRM_FIELD]: { type: 'boolean', title: `Run ${tool.name}`, description: 'Tick to let this call go on; leave it unticked or decline to stop it.', default: false },
      },
      required: [CONFIRM_FIELD],
    },
  };
}
