#!/usr/bin/env bash
# Unpack benchmark: one layer of random data (uncompressed tar, BENCH_LAYER_MB MB, 1024 by
# default), generated here and pushed to a docker-registry of our own on 127.0.0.1. Measured
# with /usr/bin/time: `raind pull` into a cold store (download + unpack), then the same pull
# again after removing the unpacked layer and the image but keeping the blob, which only
# unpacks. Reports the peak RSS (target: at most 150 MB) and the MB/s of tar.
#
# Usage: sudo bench/unpack.sh
# Env:   BENCH_LAYER_MB=1024 RAIND=path
#
# The EXIT trap stops the registry and removes the temp dir with the store in it.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "bench/unpack.sh: run as root" >&2; exit 1; }
for c in docker-registry curl python3 /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "bench/unpack.sh: $c is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
RAIND=${RAIND:-$PWD/dist/bin/raind}
LAYER_MB=${BENCH_LAYER_MB:-1024}

work=$(mktemp -d /var/tmp/raind-bench-unpack.XXXXXX)
registry_pid=
cleanup() {
  set +e # the registry's exit status after SIGTERM is no failure of the cleanup
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/local-registry.sh"
start_registry "$work"

echo "generating one layer of $LAYER_MB MB of random data..." >&2
mkdir -p "$work/gen/layer"
# a few files of 64 MB at most, as a large layer has
left=$LAYER_MB
n=0
while [ "$left" -gt 0 ]; do
  mb=$((left < 64 ? left : 64))
  head -c "${mb}M" /dev/urandom >"$work/gen/layer/data$n"
  left=$((left - mb))
  n=$((n + 1))
done
tar -C "$work/gen/layer" -cf "$work/gen/layer.tar" .
rm -rf "$work/gen/layer"
tar_bytes=$(stat -c %s "$work/gen/layer.tar")
diff_id="sha256:$(sha256sum "$work/gen/layer.tar" | cut -d' ' -f1)"
layer_digest=$(push_blob bench/unpack "$work/gen/layer.tar")
rm -f "$work/gen/layer.tar"
echo "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$diff_id\"]}}" >"$work/gen/config.json"
config_digest=$(push_blob bench/unpack "$work/gen/config.json")
config_size=$(stat -c %s "$work/gen/config.json")
echo "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$config_digest\",\"size\":$config_size},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$layer_digest\",\"size\":$tar_bytes}]}" >"$work/gen/manifest.json"
push_manifest bench/unpack v1 "$work/gen/manifest.json"

store="$work/store"
measure() { # label; leaves "rss_kb seconds" in $work/time
  sync
  /usr/bin/time -f '%M %e' -o "$work/time" "$RAIND" --root "$store" pull "$reg/bench/unpack:v1" >/dev/null 2>"$work/pull.err" ||
    { echo "bench/unpack.sh: $1: raind pull failed: $(tail -1 "$work/pull.err")" >&2; exit 1; }
}
report() { # label rss_kb seconds
  python3 - "$1" "$2" "$3" "$tar_bytes" <<'PY'
import sys
label, rss, secs, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
mb = size / 1e6
verdict = "ok" if rss <= 150 * 1024 else "OVER the 150 MB target"
print(f"{label:<28} peak RSS {rss / 1024:7.1f} MB ({verdict})   {secs:6.2f} s   {mb / max(secs, 0.01):7.1f} MB/s of tar")
PY
}

echo "layer: $((tar_bytes / 1048576)) MiB of tar, uncompressed" >&2
measure "download + unpack"
read -r rss secs <"$work/time"
report "pull (download + unpack)" "$rss" "$secs"
# keep the blob, drop the image and its layer: the next pull only unpacks
rm -rf "$store/layers" "$store/images.json"
measure "unpack"
read -r rss secs <"$work/time"
report "pull (unpack only)" "$rss" "$secs"
