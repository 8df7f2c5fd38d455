#!/usr/bin/env bash
# Pull benchmark: a ~200 MB image of 10 layers of random (incompressible) data, generated
# here and pushed to a docker-registry of our own on 127.0.0.1, pulled into a cold store
# each run by `raind pull`, `podman pull` (fresh --root) and `skopeo copy ... dir:` (which
# only downloads: no layer is unpacked), in one hyperfine invocation; then the peak RSS of
# raind's pull (/usr/bin/time -f %M).
#
# Usage: sudo bench/pull.sh
# Env:   BENCH_RUNS=5 BENCH_LAYERS=10 BENCH_LAYER_MB=20 RAIND=path
#
# The EXIT trap stops the registry and removes the temp dir with every store in it.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "bench/pull.sh: run as root" >&2; exit 1; }
for c in docker-registry hyperfine podman skopeo curl jq python3 /usr/bin/time; do
  command -v "$c" >/dev/null || { echo "bench/pull.sh: $c is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
RAIND=${RAIND:-$PWD/dist/bin/raind}
RUNS=${BENCH_RUNS:-5}
LAYERS=${BENCH_LAYERS:-10}
LAYER_MB=${BENCH_LAYER_MB:-20}

work=$(mktemp -d /var/tmp/raind-bench-pull.XXXXXX)
registry_pid=
cleanup() {
  set +e # the registry's exit status after SIGTERM is no failure of the cleanup
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  # podman's store may hold read-only or mounted bits: let podman itself drop it first
  [ -d "$work/podman-root" ] && podman --root "$work/podman-root" --runroot "$work/podman-run" system reset -f >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

. "$(dirname "${BASH_SOURCE[0]}")/local-registry.sh"
start_registry "$work"

echo "generating $LAYERS layers of $LAYER_MB MB of random data..." >&2
layers_json=()
diff_ids=()
mkdir -p "$work/gen"
for i in $(seq "$LAYERS"); do
  mkdir -p "$work/gen/l$i"
  head -c "${LAYER_MB}M" /dev/urandom >"$work/gen/l$i/data$i"
  tar -C "$work/gen/l$i" -cf "$work/gen/l$i.tar" .
  diff_ids+=("\"sha256:$(sha256sum "$work/gen/l$i.tar" | cut -d' ' -f1)\"")
  gzip -1 -c "$work/gen/l$i.tar" >"$work/gen/l$i.tar.gz"
  digest=$(push_blob bench/big "$work/gen/l$i.tar.gz")
  size=$(stat -c %s "$work/gen/l$i.tar.gz")
  layers_json+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$digest\",\"size\":$size}")
  rm -rf "$work/gen/l$i" "$work/gen/l$i.tar"
done
(IFS=,; echo "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[${diff_ids[*]}]}}") >"$work/gen/config.json"
config_digest=$(push_blob bench/big "$work/gen/config.json")
config_size=$(stat -c %s "$work/gen/config.json")
(IFS=,; echo "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$config_digest\",\"size\":$config_size},\"layers\":[${layers_json[*]}]}") >"$work/gen/manifest.json"
push_manifest bench/big v1 "$work/gen/manifest.json"
rm -rf "$work/gen"
ref="$reg/bench/big:v1"
total=$(jq '[.layers[].size] | add' < <(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$reg/v2/bench/big/manifests/v1"))
echo "image $ref: $LAYERS layers, $((total / 1000000)) MB compressed" >&2

raind_cmd="$RAIND --root $work/raind-root pull -q $ref"
podman_cmd="podman --root $work/podman-root --runroot $work/podman-run pull -q --tls-verify=false $ref"
skopeo_cmd="skopeo copy -q --src-tls-verify=false docker://$ref dir:$work/skopeo-dir"
reset="rm -rf $work/raind-root $work/skopeo-dir; podman --root $work/podman-root --runroot $work/podman-run system reset -f >/dev/null 2>&1; rm -rf $work/podman-root $work/podman-run"

hyperfine --runs "$RUNS" --warmup 1 --prepare "$reset" --export-json "$work/hyperfine.json" \
  -n "raind pull" "$raind_cmd" -n "podman pull" "$podman_cmd" -n "skopeo copy (no unpack)" "$skopeo_cmd"

echo
# each as a ratio of podman's time, measured side by side in this one run
jq -r '.results as $r | ($r[] | select(.command == "podman pull") | .mean) as $base | $r[] | "\(.command): mean \(.mean * 1000 | round) ms ± \(.stddev * 1000 | round), \(.mean / $base * 100 | round / 100)x podman"' "$work/hyperfine.json"

eval "$reset"
rss=$( { /usr/bin/time -f %M $raind_cmd >/dev/null; } 2>&1 | tail -1)
echo "raind pull peak RSS: $((rss / 1024)) MB"
