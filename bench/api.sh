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

if [[ -z "${BENCH_MOUNTNS:-}" ]]; then
  [[ $EUID -eq 0 ]] || { echo "bench/api.sh: run as root" >&2; exit 1; }
  export BENCH_MOUNTNS=1
  exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi

die() { echo "bench: error: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RAIND_BIN=${RAIND:-$REPO/dist/bin/raind}
RUNS=${BENCH_RUNS:-20}
WARMUP=${BENCH_WARMUP:-3}
N=${BENCH_API_CONTAINERS:-100}
REQUESTS=${BENCH_API_REQUESTS:-500}
for c in hyperfine docker dockerd runc curl jq; do
  command -v "$c" >/dev/null || die "$c is missing (scripts/install-deps.sh installs it)"
done
[[ -x "$RAIND_BIN" ]] || die "$RAIND_BIN not found: build first (node scripts/build.mjs)"
[[ -x /bin/busybox ]] || die "/bin/busybox not found (apt-get install busybox-static)"
unset NODE_EXTRA_CA_CERTS DOCKER_HOST DOCKER_CONTEXT

WORK=$(mktemp -d /tmp/raind-bench-api.XXXXXX)
RAIND="$RAIND_BIN --root $WORK/raind --runroot $WORK/raind-run"
RAIND_SOCK=$WORK/raind.sock
DOCKERD_SOCK=$WORK/docker.sock
export DOCKER_CONFIG=$WORK/docker-config DOCKER_CLI_HINTS=false
IMAGE=bench/busybox:1
serve_pid=
dockerd_pid=
hf_pid=
CGROUP_PARENTS=()
for h in /sys/fs/cgroup/*/; do
  for p in raind docker; do [[ -d "$h$p" ]] || CGROUP_PARENTS+=("$h$p"); done
done

stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in {1..150}; do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n "$hf_pid" ]]; then kill "$hf_pid" 2>/dev/null; wait "$hf_pid" 2>/dev/null; fi
  note "cleaning up"
  [[ -n "$serve_pid" ]] && stop_pid "$serve_pid"
  if [[ -d "$WORK/raind" ]]; then
    mapfile -t ids < <($RAIND ps -aq --no-trunc 2>/dev/null)
    ((${#ids[@]})) && $RAIND rm -f "${ids[@]}" >/dev/null 2>&1
  fi
  if [[ -n "$dockerd_pid" ]]; then
    mapfile -t ids < <(docker -H "unix://$DOCKERD_SOCK" ps -aq 2>/dev/null)
    ((${#ids[@]})) && docker -H "unix://$DOCKERD_SOCK" rm -f "${ids[@]}" >/dev/null 2>&1
    stop_pid "$dockerd_pid"
  fi
  local pids
  pids=$(pgrep -f -- "$WORK" | grep -vx "$$")
  [[ -n "$pids" ]] && kill -9 $pids 2>/dev/null && sleep 0.5
  awk -v w="$WORK" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$WORK"
  local d
  for d in "${CGROUP_PARENTS[@]}"; do [[ -d "$d" ]] && rmdir "$d" 2>/dev/null; done
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# The image, the two servers
# ---------------------------------------------------------------------------
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/tmp" "$WORK/rootfs/etc"
cp /bin/busybox "$WORK/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$WORK/rootfs/bin/$a"; done
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
$RAIND import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' "$WORK/rootfs.tar" "$IMAGE" >/dev/null

note "starting raind serve (socket $RAIND_SOCK)"
$RAIND serve -H "unix://$RAIND_SOCK" 2>"$WORK/serve.log" &
serve_pid=$!
note "starting dockerd (data root $WORK/docker, socket $DOCKERD_SOCK)"
dockerd --data-root "$WORK/docker" --exec-root "$WORK/docker-exec" --pidfile "$WORK/docker.pid" \
  -H "unix://$DOCKERD_SOCK" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
  --storage-driver overlay2 >"$WORK/dockerd.log" 2>&1 &
dockerd_pid=$!
for sock in "$RAIND_SOCK" "$DOCKERD_SOCK"; do
  for _ in {1..150}; do docker -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.2; done
  docker -H "unix://$sock" version >/dev/null 2>&1 || die "no server on $sock: $(tail -3 "$WORK/serve.log" "$WORK/dockerd.log")"
done
$RAIND save "$IMAGE" | docker -H "unix://$DOCKERD_SOCK" load -q >/dev/null
RUN="run --rm --pull never --network none $IMAGE true"
for sock in "$RAIND_SOCK" "$DOCKERD_SOCK"; do
  docker -H "unix://$sock" $RUN 2>"$WORK/run.err" || die "cannot run the image through $sock: $(tail -1 "$WORK/run.err")"
done
containerd_pids() { pgrep -f "^containerd --config $WORK/docker-exec/" || true; }
rss_kb() { local t=0 p; for p in "$@"; do t=$((t + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status"))); done; echo "$t"; }
sleep 1
idle_raind=$(rss_kb "$serve_pid")
idle_dockerd=$(rss_kb "$dockerd_pid")
idle_docker_all=$(rss_kb "$dockerd_pid" $(containerd_pids))
echo "versions: docker $(docker -H "unix://$DOCKERD_SOCK" version -f '{{.Server.Version}}'), runc $(runc --version | awk 'NR==1 {print $3}'), raind API $(docker -H "unix://$RAIND_SOCK" version -f '{{.Server.APIVersion}}'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---------------------------------------------------------------------------
# 1. docker run --rm true
# ---------------------------------------------------------------------------
note "1. docker run --rm true ($RUNS runs each)"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic --export-json "$WORK/run.json" \
  -n raind "docker -H unix://$RAIND_SOCK $RUN" \
  -n dockerd "docker -H unix://$DOCKERD_SOCK $RUN" >"$WORK/hyperfine.out" 2>&1 &
hf_pid=$!
wait "$hf_pid" || { cat "$WORK/hyperfine.out" >&2; die "hyperfine failed"; }
hf_pid=

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
mean() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .mean * 1000' "$WORK/run.json"; }
stddev() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .stddev * 1000' "$WORK/run.json"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo
echo "=== summary (runs=$RUNS, warmup=$WARMUP, $N containers, $REQUESTS requests; load average after: $(cut -d' ' -f1-3 /proc/loadavg)) ==="
echo
echo "| | raind serve | dockerd | raind/dockerd |"
echo "|---|---:|---:|---:|"
echo "| docker run --rm true, mean ms (± sd) | $(ms "$(mean raind)") ± $(ms "$(stddev raind)") | $(ms "$(mean dockerd)") ± $(ms "$(stddev dockerd)") | $(ratio "$(mean raind)" "$(mean dockerd)") |"
echo "| GET /containers/json, $N containers, p50 ms | $(pct "$WORK/lat-raind" 50) | $(pct "$WORK/lat-dockerd" 50) | $(ratio "$(pct "$WORK/lat-raind" 50)" "$(pct "$WORK/lat-dockerd" 50)") |"
echo "| GET /containers/json, $N containers, p99 ms | $(pct "$WORK/lat-raind" 99) | $(pct "$WORK/lat-dockerd" 99) | $(ratio "$(pct "$WORK/lat-raind" 99)" "$(pct "$WORK/lat-dockerd" 99)") |"
echo "| server RSS MB, idle | $(mb "$idle_raind") | $(mb "$idle_dockerd") (+containerd $(mb "$idle_docker_all")) | $(ratio "$idle_raind" "$idle_dockerd") |"
echo "| server RSS MB, $N containers | $(mb "$loaded_raind") | $(mb "$loaded_dockerd") (+containerd $(mb "$loaded_docker_all")) | $(ratio "$loaded_raind" "$loaded_dockerd") |"
