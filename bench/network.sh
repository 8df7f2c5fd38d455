#!/usr/bin/env bash
# Network benchmark: raind against podman (rootful, netavark + aardvark-dns, as raind uses
# them), each with a busybox-static image imported into a store of its own, side by side:
#   1. `run --rm IMAGE true` on the default network, and with --network none, in one
#      hyperfine invocation: mean times, raind's default network against its none and
#      against podman's default network;
#   2. throughput over a port published on 127.0.0.1 (the forwarding and the veth in the
#      path), timed by hyperfine: host->container, curl POSTs BENCH_MB (100) MB to a CGI of
#      busybox httpd that reads it to /dev/null; container->host, curl fetches a file of
#      that size from the same httpd to /dev/null.
#
# Usage: sudo bench/network.sh
# Env:   BENCH_RUNS=20 BENCH_WARMUP=3 BENCH_MB=100 BENCH_PORT=18400 (and the next one)
#        RAIND=path
#
# Nothing touches the machine's default stores: raind and podman each get a
# --root/--runroot under one temp dir; podman's network config dir is there too. Traffic
# goes only to 127.0.0.1 and the engines' bridges. The EXIT trap removes every container
# and the temp dir.
set -euo pipefail

# the prologue, the timing and the cleanup it shares with containers.sh and api.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init bench/network.sh "$@"
MB=${BENCH_MB:-100}
PORT=${BENCH_PORT:-18400}
require_tools hyperfine podman conmon crun jq curl

bench_workdir net
podman_store
# network configs of its own too: no other podman on this machine sees this one's networks
printf '[network]\nnetwork_config_dir = "%s"\n' "$WORK/podman-networks" >>"$CONTAINERS_CONF"
IMAGE=bench/busybox:1
note_cgroup_parents raind libpod_parent

# run by the EXIT trap before the temp dir goes
cleanup_engines() {
  remove_raind_containers
  reset_podman
}
bench_traps

hide_cgroup2_controllers

busybox_rootfs "$WORK/rootfs"
# the upload's sink: httpd hands the request body to it on stdin
mkdir -p "$WORK/rootfs/www/cgi-bin"
printf '#!/bin/sh\ncat >/dev/null\nprintf "Content-Type: text/plain\\r\\n\\r\\nok\\n"\n' >"$WORK/rootfs/www/cgi-bin/sink"
chmod +x "$WORK/rootfs/www/cgi-bin/sink"
head -c "${MB}M" /dev/zero >"$WORK/upload"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
$RAIND import "${CHANGES[@]}" "$WORK/rootfs.tar" "$IMAGE" >/dev/null
$PODMAN import -q "${CHANGES[@]}" "$WORK/rootfs.tar" "$IMAGE" >/dev/null
for cmd in "$RAIND run --rm $IMAGE true" "$PODMAN run --rm $PODMAN_RUN $IMAGE true"; do
  $cmd || die "cannot run the image: $cmd"
done
echo "versions: podman $(podman --version | awk '{print $3}'), netavark $(dpkg-query -W -f '${Version}' netavark 2>/dev/null), crun $(crun --version | awk 'NR==1 {print $3}'); load average before: $(loadavg)"

# ---------------------------------------------------------------------------
# 1. run --rm IMAGE true: default network and none
# ---------------------------------------------------------------------------
note "1. run --rm true, default network and none ($RUNS runs)"
bench --export-json "$WORK/run.json" \
  -n "raind" "$RAIND run --rm $IMAGE true" \
  -n "raind --network none" "$RAIND run --rm --network none $IMAGE true" \
  -n "podman" "$PODMAN run --rm $PODMAN_RUN $IMAGE true" \
  -n "podman --network none" "$PODMAN run --rm --network none $PODMAN_RUN $IMAGE true"

# ---------------------------------------------------------------------------
# 2. MB MB from the container to the host over -p 127.0.0.1:PORT:80
# ---------------------------------------------------------------------------
SERVE="dd if=/dev/zero of=/www/big bs=1M count=$MB 2>/dev/null && exec httpd -f -p 80 -h /www"
note "2. $MB MB over a published port"
$RAIND run -d -p "127.0.0.1:$PORT:80" "$IMAGE" sh -c "$SERVE" >/dev/null
$PODMAN run -d -p "127.0.0.1:$((PORT + 1)):80" $PODMAN_RUN "$IMAGE" sh -c "$SERVE" >/dev/null
for p in "$PORT" "$((PORT + 1))"; do
  for _ in {1..100}; do
    [[ $(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$p/big" 2>/dev/null) == $((MB * 1048576)) ]] && break
    sleep 0.1
  done
  [[ $(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$p/big") == $((MB * 1048576)) ]] || die "127.0.0.1:$p does not serve the file"
done
[[ $(curl -s -H 'Expect:' --data-binary "@$WORK/upload" "http://127.0.0.1:$PORT/cgi-bin/sink") == ok ]] || die "the upload sink does not answer"
UPLOAD="curl -s -o /dev/null -H Expect: --data-binary @$WORK/upload"
bench --export-json "$WORK/upload.json" \
  -n "raind" "$UPLOAD http://127.0.0.1:$PORT/cgi-bin/sink" \
  -n "podman" "$UPLOAD http://127.0.0.1:$((PORT + 1))/cgi-bin/sink"
bench --export-json "$WORK/transfer.json" \
  -n "raind" "curl -s -o /dev/null http://127.0.0.1:$PORT/big" \
  -n "podman" "curl -s -o /dev/null http://127.0.0.1:$((PORT + 1))/big"

R=$WORK/run.json
T=$WORK/transfer.json
mbps() { awk -v ms="$1" -v mb="$MB" 'BEGIN { printf "%.0f", mb / (ms / 1000) }'; }
echo
echo "=== summary (runs=$RUNS, warmup=$WARMUP, load average after: $(loadavg)) ==="
echo
echo "| run --rm IMAGE true | mean ms | raind/this |"
echo "|---|---:|---:|"
for n in "raind" "raind --network none" "podman" "podman --network none"; do
  echo "| $n | $(ms "$(mean "$R" "$n")") | $(ratio "$(mean "$R" raind)" "$(mean "$R" "$n")") |"
done
echo
echo "default network: raind/podman $(ratio "$(mean "$R" raind)" "$(mean "$R" podman)");" \
  "its cost over none: raind +$(ms "$(awk -v a="$(mean "$R" raind)" -v b="$(mean "$R" "raind --network none")" 'BEGIN { print a - b }')") ms," \
  "podman +$(ms "$(awk -v a="$(mean "$R" podman)" -v b="$(mean "$R" "podman --network none")" 'BEGIN { print a - b }')") ms"
echo
U=$WORK/upload.json
echo "| $MB MB over -p 127.0.0.1 | mean ms | MB/s | raind/this (time) |"
echo "|---|---:|---:|---:|"
for n in raind podman; do
  echo "| host->container, $n | $(ms "$(mean "$U" "$n")") | $(mbps "$(mean "$U" "$n")") | $(ratio "$(mean "$U" raind)" "$(mean "$U" "$n")") |"
done
for n in raind podman; do
  echo "| container->host, $n | $(ms "$(mean "$T" "$n")") | $(mbps "$(mean "$T" "$n")") | $(ratio "$(mean "$T" raind)" "$(mean "$T" "$n")") |"
done
