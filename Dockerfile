FROM node:20-bookworm-slim
WORKDIR /app
RUN npm i -g pnpm@9
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
# Every workspace package.json, so the frozen install sees the whole lockfile.
COPY apps/admin/package.json apps/admin/
COPY apps/cli/package.json apps/cli/
COPY apps/dashboard/package.json apps/dashboard/
COPY apps/gateway/package.json apps/gateway/
COPY apps/worker/package.json apps/worker/
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
COPY packages/transform/package.json packages/transform/
COPY packages/verify/package.json packages/verify/
COPY testkit/package.json testkit/
RUN pnpm install --frozen-lockfile
COPY . .
ENV NODE_ENV=production
EXPOSE 8080 8081
CMD ["pnpm", "start"]
