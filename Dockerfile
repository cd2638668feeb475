# The gateway image (docker-compose.yml): the `mcp-gateway` CLI, and the example backends and
# helpers under dist/examples, which the compose stack runs from the same image.
FROM node:20.20.0-bookworm-slim

WORKDIR /app

# Dependencies in their own layer, rebuilt only when the lock file changes. Scripts are skipped:
# `prepare` builds the sources, which are not copied yet.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts

COPY . .
RUN npm run build

ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["--help"]
