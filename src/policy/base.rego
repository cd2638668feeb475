# Loaded into OPA by the gateway (policy id "mcp-gateway-base"). Policy authors do not edit it:
# they write `allow` (and optionally `reason` and `confirm`) in package mcp.policy, and services ship
# restrictions as `deny` reasons in package mcp.services.<service>. A service policy can only
# narrow what the global policy allows, never widen it.
package mcp.gateway

import rego.v1

# Reasons the service's own policy gives for refusing this input.
denials(inp) := ds if {
	ds := {r | some r in object.get(data.mcp.services, [inp.request.service, "deny"], set())} with input as inp
}

allowed(inp) if {
	data.mcp.policy.allow with input as inp
}

why_not(inp) := r if {
	r := data.mcp.policy.reason with input as inp
} else := "no policy rule allows this call"

# What the policy asks the user to confirm, if anything: `confirm` in package mcp.policy is
# true, or an object with an optional "message" (docs/confirmation.md).
confirmation(inp) := c if {
	c := data.mcp.policy.confirm with input as inp
	is_object(c)
} else := {} if {
	data.mcp.policy.confirm == true with input as inp
}

evaluate(inp) := {"allow": false, "reason": concat("; ", sort(denials(inp)))} if {
	count(denials(inp)) > 0
} else := {"allow": true, "confirm": confirmation(inp)} if {
	allowed(inp)
	confirmation(inp)
} else := {"allow": true} if {
	allowed(inp)
} else := {"allow": false, "reason": why_not(inp)}

# The decision for one tools/call, resources/read, resources/subscribe, prompts/get or
# completion/complete (input: the policy input document; input.request.kind says which).
decision := evaluate(input)

# The entries of a listing a caller may see, decided in one query (input: the document without
# request/tool/resource/prompt, plus "items": [{"request": …, "tool"|"resource"|"prompt": …}, …]).
# Answers each visible item's request.name (the tool or prompt name, or the resource URI).
visible_tools := [item.request.name |
	some item in input.items
	evaluate(object.union(object.remove(input, ["items"]), item)).allow
]
