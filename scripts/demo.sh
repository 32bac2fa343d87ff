#!/bin/sh
# npm run demo: crdns serving the example 5G core / IMS zones (examples/manifests), with stock
# CoreDNS in front of it using corefiles/single-cluster.Corefile unchanged, on loopback.
# Prints dig commands that work against it, then runs until Ctrl-C and cleans up.
#
#   DEMO_PORT=1053   DNS port of CoreDNS (UDP and TCP); another free port is used if it is taken
#   CRDNS_PEERS_DIR  where scripts/setup-peers.sh put the CoreDNS binary (default ~/.cache/crdns-peers)
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

COREDNS="${CRDNS_PEERS_DIR:-$HOME/.cache/crdns-peers}/bin/coredns"
if [ ! -x "$COREDNS" ]; then
  echo "demo: CoreDNS is not installed at $COREDNS." >&2
  echo "      Run scripts/setup-peers.sh first (it builds the pinned CoreDNS into that folder)." >&2
  exit 1
fi

# ---- build crdns when dist/ is missing or older than the sources ----------------------------
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "demo: installing npm dependencies"
  npm ci --no-audit --no-fund >/dev/null
fi
if [ ! -f dist/src/cli/main.js ] || [ -n "$(find src -name '*.ts' -newer dist/src/cli/main.js | head -n 1)" ]; then
  echo "demo: building crdns (npx tsc)"
  npx tsc -p tsconfig.json || [ -f dist/src/cli/main.js ] || { echo "demo: build failed" >&2; exit 1; }
fi

# ---- ports and a scratch folder ---------------------------------------------------------------
# Prints free loopback ports: the preferred DNS port if both its UDP and TCP are free, then more.
free_ports() {
  node --input-type=module -e '
    import net from "node:net"; import dgram from "node:dgram";
    const tcp = (p) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(0));
      s.listen(p, "127.0.0.1", () => { const a = s.address().port; s.close(() => ok(a)); }); });
    const udp = (p) => new Promise((ok) => { const s = dgram.createSocket("udp4"); s.once("error", () => ok(false));
      s.bind(p, "127.0.0.1", () => s.close(() => ok(true))); });
    const out = [];
    let dns = (await tcp(Number(process.argv[1]))) && (await udp(Number(process.argv[1]))) ? Number(process.argv[1]) : 0;
    while (!dns) { const p = await tcp(0); if (await udp(p)) dns = p; }
    out.push(dns);
    for (let i = 0; i < 4; i++) out.push(await tcp(0));
    console.log(out.join(" "));
  ' "$1"
}
set -- $(free_ports "${DEMO_PORT:-1053}")
DNS_PORT=$1 CRDNS_HTTP_PORT=$2 HEALTH_PORT=$3 READY_PORT=$4 METRICS_PORT=$5

WORK=$(mktemp -d "${TMPDIR:-/tmp}/crdns-demo.XXXXXX")
CRDNS_PID=""
COREDNS_PID=""
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "demo: stopping (CoreDNS answers for 5 s more: the Corefile's health lameduck)"
  [ -n "$COREDNS_PID" ] && kill "$COREDNS_PID" 2>/dev/null || true
  [ -n "$CRDNS_PID" ] && kill "$CRDNS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- crdns ------------------------------------------------------------------------------------
ZONES="5gc.mnc001.mcc001.3gppnetwork.org ims.mnc001.mcc001.3gppnetwork.org 0.10.in-addr.arpa 1.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"
ZONE_FLAGS=""
for z in $ZONES; do ZONE_FLAGS="$ZONE_FLAGS --zone $z"; done
# shellcheck disable=SC2086
node dist/src/cli/main.js serve $ZONE_FLAGS \
  --ns ns1.5gc.mnc001.mcc001.3gppnetwork.org --ns ns2.5gc.mnc001.mcc001.3gppnetwork.org \
  --soa-rname hostmaster.5gc.mnc001.mcc001.3gppnetwork.org \
  --manifests "$ROOT/examples/manifests" \
  --listen "unix://$WORK/crdns.sock" \
  --http "127.0.0.1:$CRDNS_HTTP_PORT" \
  >"$WORK/crdns.log" 2>&1 &
CRDNS_PID=$!

# Ready once /readyz says so (the first snapshot is loaded); CoreDNS would only SERVFAIL before.
i=0
until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$CRDNS_HTTP_PORT/readyz"; do
  i=$((i + 1))
  if ! kill -0 "$CRDNS_PID" 2>/dev/null || [ $i -gt 100 ]; then
    echo "demo: crdns did not become ready; its log:" >&2
    cat "$WORK/crdns.log" >&2
    exit 1
  fi
  sleep 0.2
done

# ---- CoreDNS, with the committed Corefile and its variables -----------------------------------
COREDNS_PORT=$DNS_PORT COREDNS_BIND=127.0.0.1 \
COREDNS_HEALTH=127.0.0.1:$HEALTH_PORT COREDNS_READY=127.0.0.1:$READY_PORT COREDNS_METRICS=127.0.0.1:$METRICS_PORT \
CRDNS_SOCKET=$WORK/crdns.sock \
  "$COREDNS" -conf "$ROOT/corefiles/single-cluster.Corefile" >"$WORK/coredns.log" 2>&1 &
COREDNS_PID=$!

i=0
until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "http://127.0.0.1:$READY_PORT/ready"; do
  i=$((i + 1))
  if ! kill -0 "$COREDNS_PID" 2>/dev/null || [ $i -gt 100 ]; then
    echo "demo: CoreDNS did not start; its log:" >&2
    cat "$WORK/coredns.log" >&2
    exit 1
  fi
  sleep 0.2
done

D="dig @127.0.0.1 -p $DNS_PORT"
IMS=ims.mnc001.mcc001.3gppnetwork.org
C5G=5gc.mnc001.mcc001.3gppnetwork.org
cat <<EOF

crdns is serving examples/manifests; CoreDNS $("$COREDNS" -version | head -n 1 | sed 's/CoreDNS-//') answers DNS on 127.0.0.1:$DNS_PORT (UDP and TCP)
with corefiles/single-cluster.Corefile.

  client --dig--> CoreDNS 127.0.0.1:$DNS_PORT --gRPC, unix socket--> crdns --reads--> examples/manifests/

Try (copy and paste):

  # SIP P-CSCF discovery (RFC 3263): NAPTR -> SRV -> A/AAAA
  $D pcscf.$IMS NAPTR
  $D _sip._udp.pcscf.$IMS SRV
  $D pcscf1.$IMS A
  $D pcscf1.$IMS AAAA

  # 5G core: an NRF, UPF selection (S-NAPTR), an AMF name (CNAME, then A), a wildcard
  $D nrf.$C5G A
  $D internet.dnn.$C5G NAPTR
  $D pt01.set001.region48.amfi.$C5G A
  $D anything.lab.$C5G A

  # CAA, MX, a long TXT over TCP, reverse lookups (IPv4, IPv6), and an NXDOMAIN with its SOA
  $D $C5G CAA
  $D $IMS MX
  $D +tcp $IMS TXT
  $D -x 10.0.40.11
  $D -x fd00:0:1:40::11
  $D nothing.$IMS A

  # crdns directly over gRPC, following the NAPTR chain itself:
  node dist/src/cli/main.js query --server unix://$WORK/crdns.sock --follow pcscf.$IMS NAPTR

Edit a file in examples/manifests/ and ask again: crdns serves the change at once, CoreDNS after
the cached answer's TTL. Metrics: http://127.0.0.1:$CRDNS_HTTP_PORT/metrics (crdns),
http://127.0.0.1:$METRICS_PORT/metrics (CoreDNS). Logs: $WORK/crdns.log, $WORK/coredns.log
EOF

if command -v dig >/dev/null 2>&1; then
  echo
  echo "The NAPTR -> SRV -> A chain, asked just now:"
  for q in "pcscf.$IMS NAPTR" "_sip._udp.pcscf.$IMS SRV" "pcscf1.$IMS A" "pcscf2.$IMS A"; do
    # shellcheck disable=SC2086
    printf '  %-52s %s\n' "$q" "$(dig @127.0.0.1 -p "$DNS_PORT" +short +time=2 +tries=1 $q | tr '\n' ' ')"
  done
else
  echo
  echo "(dig is not installed: apt-get install bind9-dnsutils, or run scripts/setup-peers.sh)"
fi

echo
echo "Press Ctrl-C to stop."
# Runs until Ctrl-C, or until one of the two exits on its own.
while kill -0 "$CRDNS_PID" 2>/dev/null && kill -0 "$COREDNS_PID" 2>/dev/null; do sleep 1; done
echo "demo: a process exited unexpectedly; last log lines:" >&2
tail -n 5 "$WORK/crdns.log" "$WORK/coredns.log" >&2
exit 1
