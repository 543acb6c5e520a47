# syntax=docker/dockerfile:1
# Multi-stage: compile the TypeScript (into dist/), native modules and the web app with the
# toolchain; ship the built JavaScript and production dependencies only, run by node itself (no
# npm, no TypeScript loader: signals from the supervisor go straight to the node).
# Node 24 LTS (Node 20's support ended in April 2026; the code still runs on 20.19+).

FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm run build:web
# Production dependencies only, with the native better-sqlite3 already compiled above.
RUN npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=4000 DATA_DIR=/data
# What runs, and nothing else: no sources, tests or toolchain. (package.json: "type": "module",
# and the web chat is found beside it.) The CLI is there too: node dist/src/cli/main.js --help;
# the balancer: node dist/balancer/main.js.
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/client/web/dist ./client/web/dist
RUN mkdir -p /data && chown node:node /data
USER node
# No VOLUME: it gave every container an anonymous volume, unused by nodes on EventStoreDB. With the
# SQLite store, mount one: docker run -v roomlog-data:/data …
EXPOSE 4000
HEALTHCHECK --interval=5s --timeout=2s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# --max-semi-space-size=8: V8's young generation grows to 2 x 16 MB while the node starts and
# never gives it back, a quarter of an idle node's memory; capped at 2 x 8 MB the CPU per delivery
# measured the same (README, "Starting"). The same flags as npm start.
CMD ["node", "--max-semi-space-size=8", "dist/src/main.js"]
