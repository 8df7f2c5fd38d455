#!/usr/bin/env bash
# Docker Engine API benchmark: `raind serve` against a dockerd of our own (runc), both driven
# by the same docker CLI, with the same busybox-static image (imported into raind, then
# `raind save | docker load` into dockerd):
#   1. `docker run --rm --pull never --network none IMAGE true` (hyperfine): mean times and
#      the ratio raind/dockerd (the target is 0.5x or less);
#   2. the latency of GET /containers/json?all=1 with BENCH_API_CONTAINERS (100) created
#      (never started) containers: p50 and p99 of BENCH_API_REQUESTS (500) sequential
#      requests, each curl's own time (connect to last byte) over the unix socket;
#   3. the server's RSS: idle (image loaded, no container) and with those containers;
#      dockerd's with and without the containerd it starts.
#
# Usage: sudo bench/api.sh
# Env:   BENCH_RUNS=20 BENCH_WARMUP=3 BENCH_API_CONTAINERS=100 BENCH_API_REQUESTS=500 RAIND=path
#
# Nothing touches the machine's stores or network: raind and dockerd each get a root, a
# run root and a socket under one temp dir, dockerd no bridge, iptables or masquerading,
# and every container --network none. The script runs in a mount namespace of its own; the
# EXIT trap removes every container, stops both servers, unmounts what is left under the
# temp dir and removes it.
set -euo pipefail

# the prologue, the timing and the cleanup it shares with containers.sh and network.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init bench/api.sh "$@"
N=${BENCH_API_CONTAINERS:-100}
REQUESTS=${BENCH_API_REQUESTS:-500}
require_tools hyperfine docker dockerd runc curl jq
# the docker CLI talks only to the sockets given with -H
unset DOCKER_HOST DOCKER_CONTEXT

bench_workdir api
RAIND_SOCK=$WORK/raind.sock
DOCKERD_SOCK=$WORK/docker.sock
export DOCKER_CONFIG=$WORK/docker-config DOCKER_CLI_HINTS=false
IMAGE=bench/busybox:1
serve_pid=
dockerd_pid=
note_cgroup_parents raind docker

# run by the EXIT trap before the temp dir goes
cleanup_engines() {
  [[ -n "$serve_pid" ]] && stop_pid "$serve_pid"
  remove_raind_containers
  stop_dockerd
}
bench_traps

# ---------------------------------------------------------------------------
# The image, the two servers
# ---------------------------------------------------------------------------
busybox_rootfs "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
$RAIND import "${CHANGES[@]}" "$WORK/rootfs.tar" "$IMAGE" >/dev/null

note "starting raind serve (socket $RAIND_SOCK)"
$RAIND serve -H "unix://$RAIND_SOCK" 2>"$WORK/serve.log" &
serve_pid=$!
start_dockerd
for sock in "$RAIND_SOCK" "$DOCKERD_SOCK"; do
  for _ in {1..150}; do docker -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.2; done
  docker -H "unix://$sock" version >/dev/null 2>&1 || die "no server on $sock: $(tail -3 "$WORK/serve.log" "$WORK/dockerd.log")"
done
$RAIND save "$IMAGE" | docker -H "unix://$DOCKERD_SOCK" load -q >/dev/null
RUN="run --rm --pull never --network none $IMAGE true"
for sock in "$RAIND_SOCK" "$DOCKERD_SOCK"; do
  docker -H "unix://$sock" $RUN 2>"$WORK/run.err" || die "cannot run the image through $sock: $(tail -1 "$WORK/run.err")"
done
rss_kb() { local t=0 p; for p in "$@"; do t=$((t + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status"))); done; echo "$t"; }
sleep 1
idle_raind=$(rss_kb "$serve_pid")
idle_dockerd=$(rss_kb "$dockerd_pid")
idle_docker_all=$(rss_kb "$dockerd_pid" $(containerd_pids))
echo "versions: docker $(docker -H "unix://$DOCKERD_SOCK" version -f '{{.Server.Version}}'), runc $(runc --version | awk 'NR==1 {print $3}'), raind API $(docker -H "unix://$RAIND_SOCK" version -f '{{.Server.APIVersion}}'); load average before: $(loadavg)"

# ---------------------------------------------------------------------------
# 1. docker run --rm true
# ---------------------------------------------------------------------------
note "1. docker run --rm true ($RUNS runs each)"
bench --export-json "$WORK/run.json" \
  -n raind "docker -H unix://$RAIND_SOCK $RUN" \
  -n dockerd "docker -H unix://$DOCKERD_SOCK $RUN"

# ---------------------------------------------------------------------------
# 2. GET /containers/json with N created containers
# ---------------------------------------------------------------------------
note "2. creating $N containers in each; $REQUESTS requests of GET /containers/json?all=1 each"
for ((i = 0; i < N; i++)); do
  for sock in "$RAIND_SOCK" "$DOCKERD_SOCK"; do docker -H "unix://$sock" create --network none "$IMAGE" true >/dev/null; done
done
latencies() {
  local sock=$1 out=$2
  [[ $(curl -s --unix-socket "$sock" http://d/containers/json?all=1 | jq length) -eq $N ]] || die "$sock does not list $N containers"
  for ((i = 0; i < REQUESTS; i++)); do
    curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$sock" http://d/containers/json?all=1
  done | sort -n >"$out"
}
latencies "$RAIND_SOCK" "$WORK/lat-raind"
latencies "$DOCKERD_SOCK" "$WORK/lat-dockerd"
pct() { awk -v p="$2" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.2f", v[i] * 1000 }' "$1"; }
loaded_raind=$(rss_kb "$serve_pid")
loaded_dockerd=$(rss_kb "$dockerd_pid")
loaded_docker_all=$(rss_kb "$dockerd_pid" $(containerd_pids))

# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------
R=$WORK/run.json
stddev() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .stddev * 1000' "$1"; }
echo
echo "=== summary (runs=$RUNS, warmup=$WARMUP, $N containers, $REQUESTS requests; load average after: $(loadavg)) ==="
echo
echo "| | raind serve | dockerd | raind/dockerd |"
echo "|---|---:|---:|---:|"
echo "| docker run --rm true, mean ms (± sd) | $(ms "$(mean "$R" raind)") ± $(ms "$(stddev "$R" raind)") | $(ms "$(mean "$R" dockerd)") ± $(ms "$(stddev "$R" dockerd)") | $(ratio "$(mean "$R" raind)" "$(mean "$R" dockerd)") |"
echo "| GET /containers/json, $N containers, p50 ms | $(pct "$WORK/lat-raind" 50) | $(pct "$WORK/lat-dockerd" 50) | $(ratio "$(pct "$WORK/lat-raind" 50)" "$(pct "$WORK/lat-dockerd" 50)") |"
echo "| GET /containers/json, $N containers, p99 ms | $(pct "$WORK/lat-raind" 99) | $(pct "$WORK/lat-dockerd" 99) | $(ratio "$(pct "$WORK/lat-raind" 99)" "$(pct "$WORK/lat-dockerd" 99)") |"
echo "| server RSS MB, idle | $(mb "$idle_raind") | $(mb "$idle_dockerd") (+containerd $(mb "$idle_docker_all")) | $(ratio "$idle_raind" "$idle_dockerd") |"
echo "| server RSS MB, $N containers | $(mb "$loaded_raind") | $(mb "$loaded_dockerd") (+containerd $(mb "$loaded_docker_all")) | $(ratio "$loaded_raind" "$loaded_dockerd") |"
