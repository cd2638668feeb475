# Bench-only: a constant decision, queried over the same REST API and connection pool as the
# gateway's decisions. Its latency is the floor of any OPA query (HTTP round trip, JSON in and
# out, no policy evaluation to speak of), so decide() minus this is the cost of the policy itself.
package mcp_bench

import rego.v1

floor := {"allow": true}
