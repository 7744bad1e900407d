# syntax=docker/dockerfile:1
#
# One multi-stage image definition for every DIVOC service (DESIGN §2–§4):
#
#   docker build --build-arg SERVICE=certificate-api -t <registry>/certificate-api:<tag> .
#
# SERVICE is the folder name under services/ (vaccination-api, certificate-signer, certificate-processor,
# certificate-api, revocation-service, notification-service). deploy/build.sh builds and pushes all six.
#
# build:   pnpm 12.4.2, the whole workspace installed from the frozen lockfile, `pnpm build` (tsc -b), then
#          deploy/docker/assemble.sh: `pnpm deploy --prod` of the one service (production dependencies only, with
#          the package files it needs at run time: fonts, JSON-LD contexts, migrations), the etcd-config/
#          defaults, the HEALTHCHECK script and the operator tools (migrate, load-config, dev-keys).
# runtime: node:20-bookworm-slim with only that tree, owned by root and read-only to the service, which runs
#          as uid/gid 1000 (numeric, so Kubernetes' runAsNonRoot can check it). No pnpm, no compiler, no sources.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
ARG PNPM_VERSION=12.4.2
ENV CI=true \
    pnpm_config_store_dir=/pnpm-store
RUN npm install --global "pnpm@${PNPM_VERSION}" && pnpm --version
WORKDIR /src
# The package store depends on the lockfile alone: this layer is reused until pnpm-lock.yaml changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline
RUN pnpm build
ARG SERVICE
RUN test -n "${SERVICE}" || { echo 'the build argument SERVICE is required, e.g. --build-arg SERVICE=certificate-api' >&2; exit 1; }
RUN deploy/docker/assemble.sh "${SERVICE}" /out

FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="divoc-${SERVICE}" \
      org.opencontainers.image.description="DIVOC-TS ${SERVICE}" \
      org.opencontainers.image.licenses="MIT"
# DIVOC_CONFIG_DEFAULTS: the etcd-config/ files, used for every etcd key that etcd does not hold (yet).
# DIVOC_DATA_DIR is only written in embedded mode (no DATABASE_URL / KAFKA_BROKERS); /tmp is the one writable place.
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    DIVOC_CONFIG_DEFAULTS=/app/etcd-config \
    DIVOC_DATA_DIR=/tmp/divoc-data
WORKDIR /app
COPY --from=build --chown=0:0 /out/ /app/
USER 1000:1000
# Node has no curl in the slim image: the check is a node script (GET /health/live on PORT or the service's port).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# `exec` makes node PID 1, so SIGTERM reaches the service's graceful shutdown directly.
CMD ["/bin/sh", "-c", "exec node services/${SERVICE}/dist/main.js"]
