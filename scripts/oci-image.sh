#!/usr/bin/env bash
# Writes a single-layer OCI image archive from a root filesystem directory, without a registry,
# a container engine or any download: what `ctr images import` (containerd 1.6) reads.
#
#   scripts/oci-image.sh ROOTFS OUT.tar NAME:TAG [--entrypoint JSON] [--cmd JSON] [--user U]
#                        [--workdir DIR] [--env K=V]... [--expose PORT/PROTO]...
#
# JSON arguments are JSON arrays, e.g. --entrypoint '["/pause"]'. The layer is uncompressed and
# reproducible (sorted names, mtime 0, numeric owners taken from the files), so the same rootfs
# gives the same image id. NAME is stored as the io.containerd.image.name annotation, which ctr
# uses as the image reference on import.
set -eu
set -o pipefail

die() { echo "oci-image: $*" >&2; exit 1; }
[ $# -ge 3 ] || die "usage: $0 ROOTFS OUT.tar NAME:TAG [options]"
rootfs=$1 out=$2 name=$3; shift 3
[ -d "$rootfs" ] || die "no rootfs directory at $rootfs"
entrypoint=null cmd=null user="" workdir="" env='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"' ports=""
while [ $# -gt 0 ]; do
  case $1 in
    --entrypoint) entrypoint=$2 ;;
    --cmd) cmd=$2 ;;
    --user) user=$2 ;;
    --workdir) workdir=$2 ;;
    --env) env="$env,\"$2\"" ;;
    --expose) ports="${ports:+$ports,}\"$2\":{}" ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/blobs/sha256"

tar --sort=name --mtime=@0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$rootfs" -cf "$work/layer.tar" .
layer=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
layer_size=$(stat -c %s "$work/layer.tar")
mv "$work/layer.tar" "$work/blobs/sha256/$layer"

blob() { # writes stdin as a blob, prints "digest size"
  local f="$work/blob.tmp" d
  cat >"$f"
  d=$(sha256sum "$f" | cut -d' ' -f1)
  mv "$f" "$work/blobs/sha256/$d"
  echo "$d $(stat -c %s "$work/blobs/sha256/$d")"
}

read -r config config_size < <(printf '%s' "{\"architecture\":\"amd64\",\"os\":\"linux\",\
\"created\":\"1970-01-01T00:00:00Z\",\
\"config\":{\"Env\":[$env],\"Entrypoint\":$entrypoint,\"Cmd\":$cmd,\"User\":\"$user\",\
\"WorkingDir\":\"$workdir\",\"ExposedPorts\":{$ports}},\
\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer\"]},\
\"history\":[{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"scripts/oci-image.sh\"}]}" | blob)

read -r manifest manifest_size < <(printf '%s' "{\"schemaVersion\":2,\
\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\
\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config\",\"size\":$config_size},\
\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$layer\",\"size\":$layer_size}]}" | blob)

printf '%s' '{"imageLayoutVersion":"1.0.0"}' >"$work/oci-layout"
printf '%s' "{\"schemaVersion\":2,\"manifests\":[{\
\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$manifest\",\"size\":$manifest_size,\
\"annotations\":{\"io.containerd.image.name\":\"$name\",\"org.opencontainers.image.ref.name\":\"${name##*:}\"}}]}" \
  >"$work/index.json"

mkdir -p "$(dirname "$out")"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out.partial" oci-layout index.json blobs
mv -f "$out.partial" "$out"
echo "$name sha256:$manifest ($(( layer_size / 1024 )) KiB layer) -> $out"
