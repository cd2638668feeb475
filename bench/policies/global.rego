# Bench-only fallback global policy, used only when examples/policies/gateway.rego is absent:
# a small package mcp.policy of the same shape (admins, read-only tools for analysts).
package mcp.policy

import rego.v1

default allow := false

read_only if input.tool.annotations.readOnlyHint == true

allow if "admin" in input.principal.roles

allow if {
	"analyst" in input.principal.roles
	read_only
}
