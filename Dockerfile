# Two stages: the workspace with its dev dependencies builds dist/ (scripts/build.mjs); the image
# that runs is node and the built files. The bundle carries the npm packages it uses, so the
# running image has no node_modules, no pnpm and no TypeScript compiler.

FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN npm i -g pnpm@9
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
# Every workspace package.json, so the frozen install sees the whole lockfile.
COPY apps/admin/package.json apps/admin/
COPY apps/cli/package.json apps/cli/
COPY apps/dashboard/package.json apps/dashboard/
COPY apps/gateway/package.json apps/gateway/
COPY apps/worker/package.json apps/worker/
COPY packages/alerts/package.json packages/alerts/
COPY packages/batch/package.json packages/batch/
COPY packages/config/package.json packages/config/
COPY packages/db/package.json packages/db/
COPY packages/logger/package.json packages/logger/
COPY packages/metrics/package.json packages/metrics/
COPY packages/queue/package.json packages/queue/
COPY packages/redact/package.json packages/redact/
COPY packages/filter/package.json packages/filter/
COPY packages/operations/package.json packages/operations/
COPY packages/routing/package.json packages/routing/
COPY packages/tracing/package.json packages/tracing/
COPY packages/transform/package.json packages/transform/
COPY packages/verify/package.json packages/verify/
COPY testkit/package.json testkit/
# The root's `prepare` builds, and the sources are not here yet: build below instead.
RUN pnpm install --frozen-lockfile --ignore-scripts
COPY . .
RUN node scripts/build.mjs

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/dist ./dist
COPY --from=build /app/migrations ./migrations
COPY --from=build /app/hookline.example.yaml ./
# The image's own unprivileged user; nothing here needs to write to /app.
USER node
EXPOSE 8080 8081
# The gateway's /healthz (a worker-only container overrides this: see docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/hookline.mjs"]
CMD ["start"]
