#!/usr/bin/env bash
# Installs and builds the real peers the integration tests talk to.
#
#   scripts/setup-peers.sh                   Debian tools + Go-built peers (idempotent)
#   scripts/setup-peers.sh --no-apt          skip the Debian part
#   scripts/setup-peers.sh --update-modules  rewrite tools/*/go.mod + go.sum from the pins below
#
# Binaries land in ${CRDNS_PEERS_DIR:-$HOME/.cache/crdns-peers}/bin, outside git. Each one has a
# stamp next to it; a peer is rebuilt only when its stamp no longer matches (pin, go.mod/go.sum,
# Go version or build flags changed) or the binary no longer reports the pinned version.
# Builds use -mod=readonly against the committed go.mod/go.sum, so drift fails instead of being
# silently re-resolved.
set -eu
set -o pipefail

# ---- pins: the only place peer versions are written ------------------------------------------
COREDNS_VERSION=v1.14.7   # github.com/coredns/coredns, stock, module-root main package
ETCD_VERSION=v3.6.16      # go.etcd.io/etcd/server/v3; 3.6.x >= 3.6.8 is what k8s 1.36 pairs with
K8S_VERSION=v1.36.3       # k8s.io/kubernetes: kube-apiserver + kubectl; staging modules at v0.36.3
HELM_VERSION=v3.21.4      # helm.sh/helm/v3
APT_PACKAGES="nsd knot knot-dnsutils bind9-dnsutils ldnsutils dnsperf pdns-server pdns-backend-bind
  python3-dnspython python3-cryptography iproute2 openssl"
# Services those packages register; tests run their own instances on loopback ports instead.
APT_SERVICES="nsd knot pdns"
# -----------------------------------------------------------------------------------------------

# Every module k8s.io/kubernetes 1.36 maps with a local replace (publishing-bot's list, minus the
# retired legacy-cloud-providers); outside k/k they must all be pinned to the published v0.Y.Z.
K8S_STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
  cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
  cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt
  kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
  mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming"

# Bumped when the way a peer is built changes, so old stamps stop matching.
STAMP_FORMAT=1

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS_DIR=${CRDNS_PEERS_DIR:-$HOME/.cache/crdns-peers}
BIN="$PEERS_DIR/bin"
LOGS="$PEERS_DIR/logs"

K8S_STAGING_VERSION="v0.${K8S_VERSION#v1.}"
k8s_minor=${K8S_VERSION#v1.}; K8S_MINOR=${k8s_minor%%.*}

# The go command, made deterministic: the local toolchain only, static binaries, no workspace,
# no cross-compilation settings leaking in from the caller's environment.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
unset GOOS GOARCH GOARM GOAMD64 2>/dev/null || true

die() { echo "setup-peers: $*" >&2; exit 1; }
now() { date +%s; }

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }

do_apt=1
mode=build
for arg in "$@"; do
  case $arg in
    --no-apt) do_apt=0 ;;
    --update-modules) mode=update ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done

# ---- Debian packages -------------------------------------------------------------------------

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# Package scripts may start a system daemon on port 53; ours must never depend on or collide with
# it, so stop and disable whatever the init system knows about.
quiet_services() {
  for svc in $APT_SERVICES; do
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
      if systemctl is-enabled --quiet "$svc" 2>/dev/null || systemctl is-active --quiet "$svc" 2>/dev/null; then
        as_root systemctl disable --now "$svc" >/dev/null 2>&1 || true
        echo "  stopped and disabled system service $svc"
      fi
    elif [ -x "/etc/init.d/$svc" ]; then
      if as_root service "$svc" status >/dev/null 2>&1; then
        as_root service "$svc" stop >/dev/null 2>&1 || true
        echo "  stopped system service $svc"
      fi
      as_root update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
  done
}

setup_apt() {
  local t0 missing="" p
  t0=$(now)
  for p in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    command -v apt-get >/dev/null 2>&1 || die "missing Debian packages:$missing (and no apt-get)"
    mkdir -p "$LOGS"
    echo "  installing:$missing (log: $LOGS/apt.log)"
    {
      as_root apt-get update -q
      # shellcheck disable=SC2086
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
    } >"$LOGS/apt.log" 2>&1 || { tail -n 30 "$LOGS/apt.log" >&2; die "apt-get failed, see $LOGS/apt.log"; }
    quiet_services
    printf '%-15s %-7s %-9s %4ss\n' debian-packages install "$(echo "$missing" | wc -w) pkgs" $(( $(now) - t0 ))
  else
    printf '%-15s %-7s %-9s %4ss\n' debian-packages cached "$(echo "$APT_PACKAGES" | wc -w) pkgs" $(( $(now) - t0 ))
  fi
}

# ---- wrapper modules (tools/*) ---------------------------------------------------------------

# Copies the `go` and `godebug` lines of the wrapped module, so the peer keeps the GODEBUG
# defaults it has when built upstream (they come from the main module's go.mod).
module_header() {
  local gomod
  gomod=$(go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
  [ -f "$gomod" ] || die "could not fetch go.mod of $1@$2"
  grep -E '^(go|godebug) ' "$gomod" || true
}

write_module() { # dir module-name main-module version tool-package... ; extra lines on stdin
  local dir=$1 name=$2 mod=$3 ver=$4; shift 4
  mkdir -p "$ROOT/tools/$dir"
  {
    echo "// Generated by scripts/setup-peers.sh --update-modules; edit the pins there, not here."
    echo "module $name"
    echo
    module_header "$mod" "$ver"
    echo
    echo "tool ("; for t in "$@"; do echo "	$t"; done; echo ")"
    echo
    echo "require $mod $ver"
    cat
  } >"$ROOT/tools/$dir/go.mod"
  rm -f "$ROOT/tools/$dir/go.sum"
  (cd "$ROOT/tools/$dir" && go mod tidy) || die "go mod tidy failed in tools/$dir"
  echo "tools/$dir: $mod $ver"
}

update_modules() {
  write_module coredns crdns.local/tools/coredns github.com/coredns/coredns "$COREDNS_VERSION" \
    github.com/coredns/coredns </dev/null
  write_module etcd crdns.local/tools/etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" \
    go.etcd.io/etcd/server/v3 </dev/null
  {
    echo
    echo "// k8s.io/kubernetes requires its staging modules at v0.0.0 with local replaces that only"
    echo "// apply inside k/k; pin each to the published release of the same version."
    echo "replace ("
    for m in $K8S_STAGING; do echo "	k8s.io/$m => k8s.io/$m $K8S_STAGING_VERSION"; done
    echo ")"
  } | write_module k8s crdns.local/tools/k8s k8s.io/kubernetes "$K8S_VERSION" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
  write_module helm crdns.local/tools/helm helm.sh/helm/v3 "$HELM_VERSION" \
    helm.sh/helm/v3/cmd/helm </dev/null
}

# ---- Go-built peers --------------------------------------------------------------------------

sha() { sha256sum | cut -c1-16; }

# The committed go.mod must resolve the module to the pinned version; otherwise the pins and
# tools/ disagree and someone forgot --update-modules.
check_pin() { # dir module version
  local got
  got=$(cd "$ROOT/tools/$1" && go list -mod=readonly -m -f '{{.Version}}' "$2") ||
    die "tools/$1/go.mod does not resolve $2 (run scripts/setup-peers.sh --update-modules)"
  [ "$got" = "$3" ] || die "tools/$1/go.mod has $2 $got but the pin is $3 (run scripts/setup-peers.sh --update-modules)"
}

# Fails unless the binary reports the pinned version (and, for CoreDNS, has the grpc plugin this
# project exists for); what it said is left in $out for the error message.
out=""
version_ok() { # name version
  local b="$BIN/$1" v=$2
  out="(no executable at $b)"
  [ -x "$b" ] || return 1
  case $1 in
    coredns) out=$("$b" -version 2>&1) || return 1
             printf '%s\n' "$out" | grep -qx "CoreDNS-${v#v}" || return 1
             out=$("$b" -plugins 2>&1) || return 1
             printf '%s\n' "$out" | grep -qx 'grpc' || return 1 ;;
    etcd) out=$("$b" --version 2>&1) || return 1
          printf '%s\n' "$out" | grep -qx "etcd Version: ${v#v}" || return 1 ;;
    kube-apiserver) out=$("$b" --version 2>&1) || return 1
                    [ "$out" = "Kubernetes $v" ] || return 1 ;;
    kubectl) out=$("$b" version --client 2>&1) || return 1
             printf '%s\n' "$out" | grep -qx "Client Version: $v" || return 1 ;;
    helm) out=$("$b" version --template '{{.Version}}' 2>&1) || return 1
          [ "$out" = "$v" ] || return 1 ;;
    *) return 1 ;;
  esac
}

build_peer() { # name tools-dir main-module version package tags ldflags
  local name=$1 dir=$2 mod=$3 ver=$4 pkg=$5 tags=$6 ld=$7
  local t0 key stamp="$BIN/$name.stamp" log="$LOGS/$name.log" tmp="$BIN/.$name.partial"
  t0=$(now)
  key="$name $ver stamp=$STAMP_FORMAT $(go env GOVERSION) flags=$(printf '%s|%s' "$tags" "$ld" | sha)"
  key="$key mod=$(cat "$ROOT/tools/$dir/go.mod" "$ROOT/tools/$dir/go.sum" | sha)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] && version_ok "$name" "$ver"; then
    printf '%-15s %-7s %-9s %4ss\n' "$name" cached "$ver" $(( $(now) - t0 ))
    return 0
  fi
  check_pin "$dir" "$mod" "$ver"
  rm -f "$stamp" "$tmp"
  {
    echo "# $(date -u +%FT%TZ) $key"
    echo "# (cd tools/$dir && go build -mod=readonly -trimpath -tags '$tags' -ldflags '$ld' $pkg)"
  } >"$log"
  if ! (cd "$ROOT/tools/$dir" && go build -mod=readonly -buildvcs=false -trimpath \
          -tags "$tags" -ldflags "$ld" -o "$tmp" "$pkg") >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "building $name failed, see $log"
  fi
  mv -f "$tmp" "$BIN/$name"
  version_ok "$name" "$ver" || die "$name was built but fails the $ver check; it said: $out"
  echo "$key" >"$stamp"
  printf '%-15s %-7s %-9s %4ss\n' "$name" built "$ver" $(( $(now) - t0 ))
}

build_all() {
  command -v go >/dev/null 2>&1 || die "the go command is not on PATH (Go >= 1.26 is needed)"
  mkdir -p "$BIN" "$LOGS"

  # CoreDNS as its Makefile builds it: static, stripped, tracing compiled out, tag as commit.
  build_peer coredns coredns github.com/coredns/coredns "$COREDNS_VERSION" \
    github.com/coredns/coredns grpcnotrace \
    "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"

  # etcd's version string is a constant in api/v3/version; nothing to inject.
  build_peer etcd etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" \
    go.etcd.io/etcd/server/v3 "" "-s -w"

  # Without these, /version says v0.0.0-master and semver checks (helm kubeVersion) break.
  local kld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    kld="$kld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$K8S_MINOR"
    kld="$kld -X $p.gitTreeState=clean"
  done
  build_peer kube-apiserver k8s k8s.io/kubernetes "$K8S_VERSION" \
    k8s.io/kubernetes/cmd/kube-apiserver "" "$kld"
  build_peer kubectl k8s k8s.io/kubernetes "$K8S_VERSION" \
    k8s.io/kubernetes/cmd/kubectl "" "$kld"

  # helm's default Capabilities.KubeVersion (template, lint) follows the apiserver we run.
  local hld="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  hld="$hld -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    hld="$hld -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$K8S_MINOR"
  done
  build_peer helm helm helm.sh/helm/v3 "$HELM_VERSION" helm.sh/helm/v3/cmd/helm "" "$hld"
}

if [ "$mode" = update ]; then
  command -v go >/dev/null 2>&1 || die "the go command is not on PATH"
  update_modules
  exit 0
fi

mkdir -p "$PEERS_DIR"
PEERS_DIR=$(cd "$PEERS_DIR" && pwd) # builds run from tools/*, so a relative path would move
BIN="$PEERS_DIR/bin"
LOGS="$PEERS_DIR/logs"
# Two runs at once (parallel test shells, CI + a developer) would race on the same binaries.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$PEERS_DIR/.lock"
  flock 9
fi

t_all=$(now)
if [ "$do_apt" = 1 ]; then setup_apt; fi
build_all
echo "peers ready in $BIN ($(( $(now) - t_all ))s)"
