#!/bin/sh
# The whole test suite on a fresh machine: dependencies, peers (Debian packages,
# CoreDNS, etcd, kube-apiserver, kubectl, helm; built once and cached outside
# the repo), a type-checked build, then every mocha test, unit and integration.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/setup-peers.sh
rm -rf dist
npx tsc -p tsconfig.json
exec npx mocha "$@"
