#!/bin/sh
# Sets up and runs crdns on its embedded default: the example DNSEndpoint
# manifests in examples/, no cluster needed. gRPC on 127.0.0.1:8053,
# metrics/health on 127.0.0.1:9253. Extra flags are passed to `crdns serve`.
set -eu
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx tsc -p tsconfig.json
exec node dist/src/cli/main.js serve \
  --zone 5gc.mnc001.mcc001.3gppnetwork.org \
  --zone ims.mnc001.mcc001.3gppnetwork.org \
  --zone 0.10.in-addr.arpa \
  --zone 1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa \
  --ns ns1.5gc.mnc001.mcc001.3gppnetwork.org \
  --ns ns2.5gc.mnc001.mcc001.3gppnetwork.org \
  --soa-rname hostmaster.5gc.mnc001.mcc001.3gppnetwork.org \
  --manifests examples/manifests \
  --listen 127.0.0.1:8053 \
  --http 127.0.0.1:9253 \
  "$@"
