# Bench-only addition to the global policy (package mcp.policy): the bench gateways run without
# authentication, so every caller is the anonymous principal (subject "anonymous", no roles).
# Loaded next to examples/policies/gateway.rego, whose rules (admins, analysts, support) still
# get evaluated for every decision; this rule only lets the anonymous bench caller through.
package mcp.policy

import rego.v1

allow if input.principal.subject == "anonymous"
