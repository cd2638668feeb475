# Example global policy (package mcp.policy): who may call which tool.
# The input document is described in docs/policy.md.
package mcp.policy

import rego.v1

# OAuth clients (the token's client_id or azp) trusted to run state-changing tools.
trusted_clients := {"ops-console", "alice"}

read_only if input.tool.annotations.readOnlyHint == true

# The reasons below are about tool calls; documents without a kind are tool calls too.
tool_call if object.get(input.request, "kind", "tool") == "tool"

default allow := false

# Admins may call read-only tools from any client...
allow if {
	"admin" in input.principal.roles
	read_only
}

# ...and state-changing tools only from trusted clients.
allow if {
	"admin" in input.principal.roles
	input.client.id in trusted_clients
}

# Analysts may call read-only tools only.
allow if {
	"analyst" in input.principal.roles
	read_only
}

# Support staff may use the orders service (whose own policy still limits cancellation).
allow if {
	"support" in input.principal.roles
	input.request.service == "orders"
}

reason := "analysts may only use read-only tools" if {
	tool_call
	"analyst" in input.principal.roles
	not read_only
} else := "this client is not trusted to run state-changing tools" if {
	tool_call
	"admin" in input.principal.roles
	not read_only
	not input.client.id in trusted_clients
}
