# The gateway image: Node 24 (the active LTS; Node 20 reached end of life on 2026-04-30), production
# dependencies only, a non-root user, a HEALTHCHECK on the admin listener. Node 24.21.0 is also the
# Node the test suites run on besides the system Node (scripts/node-versions), so the image runs a
# Node the tests have passed on.
#
#   docker build -t mcp-gateway .                      the gateway (the last stage, the default)
#   docker build --target examples -t mcp-gateway-examples .   the example backends docker-compose runs
#
# Stages: build (all dependencies, compile) → prod-deps (npm ci --omit=dev) → gateway (what runs).

# ---- build: every dependency, the TypeScript compiled to dist/ ----
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
# Dependencies in their own layer, rebuilt only when the lock file changes. Scripts are skipped:
# `prepare` builds the sources, which are not copied yet.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

# ---- prod-deps: the runtime dependencies alone (no TypeScript, vitest, MCP SDKs, oidc-provider) ----
FROM node:24.21.0-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- examples: the example backends and helpers docker-compose runs (examples/backends/serve.ts,
# examples/render-envoy.ts). The notes backend is built on the MCP SDK, a development dependency,
# so this image keeps every dependency; it is a demo, never the gateway. ----
FROM build AS examples
ENV NODE_ENV=production
USER node
ENTRYPOINT ["node"]

# ---- gateway: the default target ----
FROM node:24.21.0-bookworm-slim AS gateway
# MCP_GATEWAY_ADMIN_PORT is the CLI's --admin-port: the admin listener (/livez, /readyz, /healthz,
# /metrics) is always on 9090 in this image, where the HEALTHCHECK asks. It wins over admin.port.
ENV NODE_ENV=production \
    MCP_GATEWAY_ADMIN_PORT=9090
WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
COPY package.json ./
COPY --from=build /app/dist/src dist/src
# Read at run time from the package root: the base Rego module the gateway loads into OPA.
COPY src/policy/base.rego src/policy/base.rego
# The `node` user (uid 1000) of the official image: nothing runs as root. The files stay root's,
# read-only to the process; mount a writable volume for an audit file.
USER node
EXPOSE 8080 9090
# /livez, not /readyz: Docker (and Swarm, which restarts unhealthy containers) should act on a
# gateway process that no longer answers, not on one waiting for OPA, the issuer or Hazelcast. The
# gateway recovers from those by itself, and restarting it would not bring them back. Readiness
# (/readyz) is for whatever routes traffic: Envoy's health checks, Kubernetes' readiness probe.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.MCP_GATEWAY_ADMIN_PORT}/livez`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["--help"]
