# Sluice: multi-stage build on Node 20 / Debian bookworm. Config is read from /etc/sluice/config.yaml
# (mount your own there); schemas from /app/schemas unless the config names other bases.

FROM node:20-bookworm AS build
WORKDIR /app
# Native modules build against the image's own Node headers. npm ci's postinstall patches node-rdkafka and piscina.
COPY package.json package-lock.json .npmrc ./
COPY scripts/patch-dependencies.js scripts/common.js ./scripts/
COPY scripts/patches ./scripts/patches
RUN sed -i '/^nodedir=/d' .npmrc && npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY bench ./bench
COPY test ./test
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY schemas ./schemas
COPY config ./config
COPY config/default.yaml /etc/sluice/config.yaml
RUN mkdir -p /app/data && chown node:node /app/data
USER node
ENV SLUICE_LISTEN_HOST=0.0.0.0
EXPOSE 8192
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8192/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve", "--config", "/etc/sluice/config.yaml"]
