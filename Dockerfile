# The worker and the API, built from this repository. Production connects to a Temporal
# cluster (TEMPORAL_ADDRESS), so the local Temporal binaries are not installed here.
FROM node:20.19.5-bookworm-slim AS build
WORKDIR /app
ENV CART_RECOVERY_SKIP_TEMPORAL_INSTALL=1
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY src/temporal/binaries.ts ./src/temporal/binaries.ts
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20.19.5-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY templates ./templates
USER node
CMD ["node", "dist/worker.js"]
