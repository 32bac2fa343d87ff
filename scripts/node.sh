#!/usr/bin/env bash
# A one-node Kubernetes cluster on this machine, from locally built parts only (no registry,
# no Docker, no systemd): etcd + kube-apiserver + kube-controller-manager + kube-scheduler from
# ~/.cache/crdns-peers/bin, containerd + runc + CNI plugins from Debian, a kubelet built by
# scripts/setup-node.sh. Needs root (containerd, runc, bridge, iptables).
#
#   scripts/node.sh up      start everything under $CRDNS_NODE_DIR (default /var/lib/crdns-node),
#                           wait for the Node to be Ready, print the kubeconfig path
#   scripts/node.sh down    stop what `up` started (by the pids it recorded), keep the state dir
#   scripts/node.sh purge   down + remove the state dir, the bridge and the iptables rule
#   scripts/node.sh import IMAGE.tar...   import OCI archives into containerd's k8s.io namespace
#
# Layout: the node is dual-stack with IPv6 first, as many 5G cores are. Pods get one address
# from fd88::/64 and one from 10.88.0.0/24 on bridge crdns0 (the node is fd88::1 and 10.88.0.1);
# the IPv6 one is the pod's primary IP (status.podIP), so the kubelet's HTTP probes go to it.
# Services are IPv4 (10.0.0.0/24), through kube-proxy in iptables mode; the apiserver listens
# on 10.88.0.1 and 127.0.0.1:$PORT_BASE+443, and one DNAT rule makes the `kubernetes` ClusterIP
# (10.0.0.1:443) reach it even before kube-proxy runs.
set -eu
set -o pipefail

DIR=${CRDNS_NODE_DIR:-/var/lib/crdns-node}
RUN=${CRDNS_NODE_RUN:-/run/crdns-node}
PEERS_DIR=${CRDNS_PEERS_DIR:-$HOME/.cache/crdns-peers}
BIN="$PEERS_DIR/bin"
PORT_BASE=${CRDNS_NODE_PORT_BASE:-26000}   # all ports are PORT_BASE+n, n < 1000
P_ETCD=$((PORT_BASE + 379)) P_ETCD_PEER=$((PORT_BASE + 380)) P_API=$((PORT_BASE + 443))
P_KUBELET=$((PORT_BASE + 250)) P_KUBELET_HEALTH=$((PORT_BASE + 248))
P_KCM=$((PORT_BASE + 257)) P_SCHED=$((PORT_BASE + 259))
P_PROXY_HEALTH=$((PORT_BASE + 256)) P_PROXY_METRICS=$((PORT_BASE + 249))
BRIDGE=crdns0 NODE_IP=10.88.0.1 POD_CIDR=10.88.0.0/24 SVC_CIDR=10.0.0.0/24 SVC_API_IP=10.0.0.1
NODE_IP6=fd88::1 POD_CIDR6=fd88::/64
NODE_NAME=${CRDNS_NODE_NAME:-crdns-node}
SOCK="$RUN/containerd/containerd.sock"

die() { echo "node: $*" >&2; exit 1; }
log() { echo "node: $*" >&2; }
now() { date +%s; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

# ---- processes: each one is started in its own session; its pid goes to $DIR/pids/NAME ---------
start() { # name cmd...
  local name=$1; shift
  if [ -f "$DIR/pids/$name" ] && kill -0 "$(cat "$DIR/pids/$name")" 2>/dev/null; then
    log "$name already running (pid $(cat "$DIR/pids/$name"))"; return 0
  fi
  mkdir -p "$DIR/pids" "$DIR/logs"
  setsid "$@" >>"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name"
  log "started $name (pid $!, log $DIR/logs/$name.log)"
}

stop() { # name
  local f="$DIR/pids/$1" pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "$1 ignored SIGTERM; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
    log "stopped $1 (pid $pid)"
  fi
  rm -f "$f"
}

wait_for() { # what seconds cmd...
  local what=$1 secs=$2 t0; shift 2
  t0=$(now)
  until "$@" >/dev/null 2>&1; do
    [ $(( $(now) - t0 )) -lt "$secs" ] || die "$what not ready after ${secs}s"
    sleep 1
  done
  log "$what ready ($(( $(now) - t0 ))s)"
}

kubectl() { "$BIN/kubectl" --kubeconfig="$DIR/kubeconfig-admin.yaml" "$@"; }

# ---- one-time state: PKI, tokens, configs -------------------------------------------------------
cert() { # name subject san-or-empty ext (in $DIR/pki, signed by its CA)
  local p="$DIR/pki"
  openssl ecparam -name prime256v1 -genkey -noout -out "$p/$1.key" 2>/dev/null
  openssl req -new -key "$p/$1.key" -subj "$2" -out "$p/$1.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=$4" ${3:+"subjectAltName=$3"} >"$p/$1.ext"
  openssl x509 -req -in "$p/$1.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 3650 \
    -extfile "$p/$1.ext" -out "$p/$1.crt" 2>/dev/null
}

# The apiserver reaches the kubelet at the node's first InternalIP, the IPv6 one.
kubelet_cert() {
  cert kubelet "/CN=$NODE_NAME" "IP:127.0.0.1,IP:$NODE_IP,IP:$NODE_IP6,DNS:$NODE_NAME" serverAuth
  touch "$DIR/pki/kubelet-dual-stack"
}

pki() {
  local p="$DIR/pki"
  if [ -f "$p/done" ]; then
    # State made before the node was dual-stack: only the kubelet's certificate lacks an address.
    [ -f "$p/kubelet-dual-stack" ] || kubelet_cert
    return 0
  fi
  mkdir -p "$p"
  openssl ecparam -name prime256v1 -genkey -noout -out "$p/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$p/ca.key" -subj /CN=crdns-node-ca -days 3650 -out "$p/ca.crt" 2>/dev/null
  cert apiserver /CN=kube-apiserver \
    "IP:127.0.0.1,IP:$NODE_IP,IP:$SVC_API_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" serverAuth
  kubelet_cert
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "" clientAuth
  openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$p/sa.key"
  openssl ec -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  # token,user,uid,"groups": admin for kubectl/helm, the node, and the two controllers.
  {
    echo "$(openssl rand -hex 24),admin,admin-uid,\"system:masters\""
    echo "$(openssl rand -hex 24),system:node:$NODE_NAME,node-uid,\"system:nodes\""
    echo "$(openssl rand -hex 24),system:kube-controller-manager,kcm-uid"
    echo "$(openssl rand -hex 24),system:kube-scheduler,sched-uid"
    echo "$(openssl rand -hex 24),system:kube-proxy,proxy-uid"
  } >"$p/tokens.csv"
  touch "$p/done"
}

kubeconfig() { # file user
  local token
  token=$(awk -F, -v u="$2" '$2 == u { print $1 }' "$DIR/pki/tokens.csv")
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: node
  cluster: {server: "https://127.0.0.1:$P_API", certificate-authority: "$DIR/pki/ca.crt"}
users:
- name: $2
  user: {token: "$token"}
contexts:
- name: node
  context: {cluster: node, user: "$2"}
current-context: node
EOF
}

configs() {
  mkdir -p "$DIR/cni/conf" "$DIR/manifests" "$RUN/containerd"
  kubeconfig "$DIR/kubeconfig-admin.yaml" admin
  kubeconfig "$DIR/kubeconfig-kubelet.yaml" "system:node:$NODE_NAME"
  kubeconfig "$DIR/kubeconfig-kcm.yaml" system:kube-controller-manager
  kubeconfig "$DIR/kubeconfig-scheduler.yaml" system:kube-scheduler
  grep -q ',system:kube-proxy,' "$DIR/pki/tokens.csv" ||
    echo "$(openssl rand -hex 24),system:kube-proxy,proxy-uid" >>"$DIR/pki/tokens.csv"
  kubeconfig "$DIR/kubeconfig-proxy.yaml" system:kube-proxy

  cat >"$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $DIR/kubeconfig-proxy.yaml}
mode: iptables
clusterCIDR: $POD_CIDR,$POD_CIDR6
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:$P_PROXY_HEALTH
metricsBindAddress: 127.0.0.1:$P_PROXY_METRICS
# No CAP_SYS_RESOURCE and no conntrack tool here: leave the conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF

  cat >"$DIR/containerd.toml" <<EOF
version = 2
root = "$DIR/containerd/root"
state = "$RUN/containerd/state"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  # No registry is reachable: the sandbox image is built and imported by setup-node.sh.
  sandbox_image = "localhost/crdns/pause:local"
  stream_server_address = "127.0.0.1"
  # This machine's root has no CAP_SYS_RESOURCE (not in the bounding set), so no process may
  # lower its oom_score_adj; the kubelet asks -998 for every pod sandbox (and -997 for Guaranteed
  # containers) and runc then dies in nsexec with "can't get final child's PID from pipe: EOF".
  # With this containerd clamps the requested value to its own (0) instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/conf"
EOF

  cat >"$DIR/cni/conf/10-crdns.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "crdns",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$DIR/cni/ipam",
              "ranges": [[{"subnet": "$POD_CIDR6", "gateway": "$NODE_IP6"}], [{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
              "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 (hybrid: v1 controllers, an empty unified mount) and no systemd.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix://$SOCK
# Both of the node's addresses (the apiserver uses the IPv6 one, the first InternalIP).
address: "::"
port: $P_KUBELET
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $P_KUBELET_HEALTH
tlsCertFile: $DIR/pki/kubelet.crt
tlsPrivateKeyFile: $DIR/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $DIR/pki/ca.crt}
authorization: {mode: Webhook}
staticPodPath: $DIR/manifests
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
# The disk is shared with other work; do not evict or GC images because of it.
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
registerNode: true
EOF
}

# ---- up / down ----------------------------------------------------------------------------------
network() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    log "created bridge $BRIDGE"
  fi
  ip addr show dev "$BRIDGE" | grep -q "inet $NODE_IP/" || ip addr add "$NODE_IP/24" dev "$BRIDGE"
  # nodad: usable at once, the bridge is the only holder of the prefix.
  ip -6 addr show dev "$BRIDGE" | grep -q "inet6 $NODE_IP6/" || ip -6 addr add "$NODE_IP6/64" dev "$BRIDGE" nodad
  ip link set "$BRIDGE" up
  # The kubernetes Service without kube-proxy.
  iptables -t nat -C PREROUTING -d "$SVC_API_IP/32" -p tcp --dport 443 -j DNAT --to-destination "$NODE_IP:$P_API" 2>/dev/null ||
    iptables -t nat -A PREROUTING -d "$SVC_API_IP/32" -p tcp --dport 443 -j DNAT --to-destination "$NODE_IP:$P_API"
}

up() {
  need_root
  local b t0
  t0=$(now)
  for b in etcd kube-apiserver kubelet kubectl; do
    [ -x "$BIN/$b" ] || die "no $BIN/$b (run scripts/setup-peers.sh and scripts/setup-node.sh)"
  done
  command -v containerd >/dev/null || die "no containerd (run scripts/setup-node.sh)"
  mkdir -p "$DIR"
  pki; configs; network

  start containerd containerd --config "$DIR/containerd.toml"
  wait_for containerd 30 ctr -a "$SOCK" version
  import_images

  start etcd "$BIN/etcd" --name=node --data-dir="$DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$P_ETCD" --advertise-client-urls="http://127.0.0.1:$P_ETCD" \
    --listen-peer-urls="http://127.0.0.1:$P_ETCD_PEER" --initial-advertise-peer-urls="http://127.0.0.1:$P_ETCD_PEER" \
    --initial-cluster="node=http://127.0.0.1:$P_ETCD_PEER" --unsafe-no-fsync --log-level=warn
  wait_for etcd 60 curl -fsS "http://127.0.0.1:$P_ETCD/health"

  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$P_ETCD" \
    --bind-address=0.0.0.0 --advertise-address="$NODE_IP" --secure-port="$P_API" \
    --tls-cert-file="$DIR/pki/apiserver.crt" --tls-private-key-file="$DIR/pki/apiserver.key" \
    --client-ca-file="$DIR/pki/ca.crt" --token-auth-file="$DIR/pki/tokens.csv" \
    --kubelet-client-certificate="$DIR/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$DIR/pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$DIR/pki/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --service-cluster-ip-range="$SVC_CIDR" --allow-privileged=true \
    --authorization-mode=Node,RBAC \
    --service-account-issuer="https://kubernetes.default.svc" \
    --service-account-key-file="$DIR/pki/sa.pub" --service-account-signing-key-file="$DIR/pki/sa.key" \
    --v=1
  wait_for kube-apiserver 120 curl -fsS --cacert "$DIR/pki/ca.crt" "https://127.0.0.1:$P_API/readyz"

  # Without these two, only static pods and pods with spec.nodeName set run (no Deployments,
  # no default ServiceAccounts, no kube-root-ca.crt).
  if [ -x "$BIN/kube-controller-manager" ]; then start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$DIR/kubeconfig-kcm.yaml" --authentication-kubeconfig="$DIR/kubeconfig-kcm.yaml" \
    --authorization-kubeconfig="$DIR/kubeconfig-kcm.yaml" \
    --bind-address=127.0.0.1 --secure-port="$P_KCM" --leader-elect=false \
    --root-ca-file="$DIR/pki/ca.crt" --service-account-private-key-file="$DIR/pki/sa.key" \
    --use-service-account-credentials=true --cluster-cidr="$POD_CIDR" --allocate-node-cidrs=false \
    --controllers='*,-nodeipam,-service-lb-controller,-cloud-node-lifecycle' --v=1
  else log "no kube-controller-manager in $BIN: skipped"; fi
  if [ -x "$BIN/kube-scheduler" ]; then start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$DIR/kubeconfig-scheduler.yaml" \
    --authentication-kubeconfig="$DIR/kubeconfig-scheduler.yaml" \
    --authorization-kubeconfig="$DIR/kubeconfig-scheduler.yaml" \
    --bind-address=127.0.0.1 --secure-port="$P_SCHED" --leader-elect=false --v=1
  else log "no kube-scheduler in $BIN: skipped"; fi

  # Services' ClusterIPs (iptables mode). Without it only the kubernetes Service works, through
  # the DNAT rule of network().
  if [ -x "$BIN/kube-proxy" ]; then
    start kube-proxy "$BIN/kube-proxy" --config="$DIR/kube-proxy.yaml" --v=1
  else log "no kube-proxy in $BIN: skipped"; fi

  start kubelet "$BIN/kubelet" --config="$DIR/kubelet.yaml" --kubeconfig="$DIR/kubeconfig-kubelet.yaml" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP6,$NODE_IP" --root-dir="$DIR/kubelet" --v=1
  wait_for kubelet 120 curl -fsS "http://127.0.0.1:$P_KUBELET_HEALTH/healthz"
  wait_for "node $NODE_NAME" 180 kubectl wait --for=condition=Ready --timeout=5s "node/$NODE_NAME"
  log "cluster up in $(( $(now) - t0 ))s; kubeconfig: $DIR/kubeconfig-admin.yaml"
  echo "$DIR/kubeconfig-admin.yaml"
}

import_images() {
  local f
  for f in "$PEERS_DIR"/images/*.tar; do
    [ -f "$f" ] || continue
    ctr -a "$SOCK" -n k8s.io images import "$f" >/dev/null || die "importing $f failed"
  done
}

down() {
  local n
  for n in kubelet kube-proxy kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$n"; done
  # Pods' shims outlive containerd; stop the containers through the CRI first.
  if [ -S "$SOCK" ]; then
    for n in $(ctr -a "$SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr -a "$SOCK" -n k8s.io tasks kill -s KILL "$n" >/dev/null 2>&1 || true
    done
    sleep 1
    for n in $(ctr -a "$SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr -a "$SOCK" -n k8s.io tasks delete -f "$n" >/dev/null 2>&1 || true
    done
  fi
  stop containerd
}

purge() {
  down
  iptables -t nat -D PREROUTING -d "$SVC_API_IP/32" -p tcp --dport 443 -j DNAT --to-destination "$NODE_IP:$P_API" 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
  # kube-proxy's KUBE-* chains and the kubelet's canaries outlive them.
  [ -x "$BIN/kube-proxy" ] && "$BIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  local ipt t n
  for ipt in iptables ip6tables; do
    for t in nat filter mangle; do "$ipt" -t "$t" -X KUBE-KUBELET-CANARY 2>/dev/null || true; done
  done
  # Pod network namespaces of sandboxes `down` killed (containerd names them cni-*; this
  # containerd is the only CNI user on the machine the script is meant for).
  for n in /run/netns/cni-*; do [ -e "$n" ] && ip netns delete "${n##*/}" 2>/dev/null || true; done
  # Mounts left by kubelet/containerd (pod volumes, overlay snapshots, netns) must go first.
  grep -E " ($DIR|$RUN)/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$DIR" "$RUN"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  purge) purge ;;
  import) shift; for f in "$@"; do ctr -a "$SOCK" -n k8s.io images import "$f"; done ;;
  *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
