# crdns container image.
#   docker build -t REGISTRY/crdns:0.1.0 .
#   docker run --rm -v "$PWD/examples/manifests:/m:ro" REGISTRY/crdns:0.1.0 \
#     --zone example.org --manifests /m --listen 0.0.0.0:8053 --http :9253
# Stage 1 compiles the TypeScript; stage 2 installs production dependencies
# only; the final image is distroless Node 20 (no shell, no package manager)
# running as uid/gid 65532, the same user as the CoreDNS image, so both
# containers of the pod can use the unix socket in their shared emptyDir.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsconfig also includes test/ and bench/; they are not in this stage, so only src/ is compiled.
RUN npx tsc -p tsconfig.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY proto ./proto
COPY package.json ./
USER 65532:65532
# 53 is not used: CoreDNS in front takes DNS. 9253 is the --http port the chart uses.
EXPOSE 9253
# `crdns serve`; arguments are its flags (or set CRDNS_* variables). For the
# other commands: --entrypoint /nodejs/bin/node IMAGE /app/dist/src/cli/main.js check ...
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/cli/main.js", "serve"]
