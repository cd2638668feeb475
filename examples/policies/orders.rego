# Example service policy shipped by the orders service (package mcp.services.orders).
# A service policy can only refuse: every `deny` reason blocks the call, whatever the global
# policy allows.
package mcp.services.orders

import rego.v1

deny contains "only admins may cancel orders" if {
	input.tool.upstreamName == "cancel_order"
	not "admin" in input.principal.roles
}
