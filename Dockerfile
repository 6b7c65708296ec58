# Lede for production: `docker build -t lede .`, then
#   docker run -p 3000:3000 -e DATABASE_URL=postgres://… lede
# (without DATABASE_URL it runs on the embedded database in /app/data; mount a volume there to keep it).
# See docs/adr/0015-production-build.md.

# Build: all dependencies, then tsc to dist/ with the assets the code reads at run time.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.js scripts/
COPY src/ src/
RUN npm run build

# Runtime: production dependencies, the compiled code and the migrations; no TypeScript, no loader.
FROM node:22-slim
ENV NODE_ENV=production
# V8 sizes its heap from the machine's memory and, on a large one, lets garbage pile up: under the
# bench load the server's RSS peaked at about 245 MB by default and at 155-165 MB with a 512 MB
# ceiling, at the same throughput (docs/performance.md, "Production process memory"). 512 MB
# leaves room for the 64 MB response cache and thousands of live streams.
ENV NODE_OPTIONS=--max-old-space-size=512
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/ dist/
COPY migrations/ migrations/
# The code stays root's and read-only to the server; only the embedded database's directory is its.
RUN mkdir data && chown node:node data
USER node
EXPOSE 3000
# The slim image has no curl: Node's own fetch asks /readyz (database up, migrations applied).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server.js"]
