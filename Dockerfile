FROM node:20-bookworm-slim
WORKDIR /app
RUN npm i -g pnpm@9
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY apps/gateway/package.json apps/gateway/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
COPY apps/dashboard/package.json apps/dashboard/
COPY apps/admin/package.json apps/admin/
COPY packages/verify/package.json packages/verify/
COPY packages/db/package.json packages/db/
COPY packages/config/package.json packages/config/
COPY packages/queue/package.json packages/queue/
COPY packages/logger/package.json packages/logger/
COPY packages/testkit/package.json packages/testkit/
COPY packages/metrics/package.json packages/metrics/
RUN pnpm install --frozen-lockfile
COPY . .
ENV NODE_ENV=production
EXPOSE 8080 8081
CMD ["pnpm", "start"]
