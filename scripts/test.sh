#!/bin/sh
# The whole test suite on a fresh machine: dependencies, peers (Debian packages,
# CoreDNS, etcd, kube-apiserver, kubectl, helm; built once and cached outside
# the repo), the one-node cluster's parts (scripts/setup-node.sh), a type-checked build, then
# every mocha test, unit and integration.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/setup-peers.sh
# containerd/runc/CNI, kubelet & co. and local images for the one-node cluster (needs root).
bash scripts/setup-node.sh
rm -rf dist
npx tsc -p tsconfig.json
exec npx mocha "$@"
