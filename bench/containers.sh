#!/usr/bin/env bash
# Container engine benchmark: raind against podman and docker (a dockerd of our own with
# runc), each with a busybox-static image imported into a store of its own, side by side:
#   1. `run --rm --network none IMAGE true`, one hyperfine invocation: mean times and the
#      ratios raind/podman and raind/docker (podman with its default runtime, crun, and
#      with runc; raind with droplet, and with crun and runc as podman uses them);
#   2. `ps -a` with BENCH_PS_CONTAINERS (100) containers made by `create`, never started;
#   3. the memory of the per-container processes of BENCH_IDLE_CONTAINERS (50) containers
#      running `sleep` (`run -d`): conmon for raind and podman (their commands exit), the
#      containerd shim for docker; VmRSS and Pss summed, per container.
#
# Usage: sudo bench/containers.sh
# Env:   BENCH_RUNS=20 BENCH_WARMUP=3 BENCH_PS_CONTAINERS=100 BENCH_IDLE_CONTAINERS=50
#        RAIND=path
#
# Nothing touches the machine's default stores: raind, podman and dockerd each get a
# --root/--runroot (--data-root/--exec-root) under one temp dir, dockerd its own socket
# and no bridge, iptables or masquerading (--network none everywhere). The whole script
# runs in a mount namespace of its own. The EXIT trap removes every container, stops
# dockerd, unmounts what is left under the temp dir and removes it.
set -euo pipefail

# the prologue, the timing and the cleanup it shares with network.sh and api.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init bench/containers.sh "$@"
PS_N=${BENCH_PS_CONTAINERS:-100}
IDLE_N=${BENCH_IDLE_CONTAINERS:-50}
require_tools hyperfine podman docker dockerd conmon runc crun jq

bench_workdir ctr
podman_store
DOCKER="docker -H unix://$WORK/docker.sock"
IMAGE=bench/busybox:1
dockerd_pid=
note_cgroup_parents raind libpod_parent docker

# run by the EXIT trap before the temp dir goes
cleanup_engines() {
  remove_raind_containers
  reset_podman
  stop_dockerd
}
bench_traps

hide_cgroup2_controllers "hybrid cgroup host: cgroup2's controllers hidden from crun in this mount namespace"

# ---------------------------------------------------------------------------
# The image: busybox-static and its applets, imported into each store.
# ---------------------------------------------------------------------------
busybox_rootfs "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .

start_dockerd
for _ in {1..150}; do $DOCKER version >/dev/null 2>&1 && break; sleep 0.2; done
$DOCKER version >/dev/null 2>&1 || die "dockerd did not come up: $(tail -3 "$WORK/dockerd.log")"

$RAIND import "${CHANGES[@]}" "$WORK/rootfs.tar" "$IMAGE" >/dev/null
$PODMAN import -q "${CHANGES[@]}" "$WORK/rootfs.tar" "$IMAGE" >/dev/null
$DOCKER import "${CHANGES[@]}" "$WORK/rootfs.tar" "$IMAGE" >/dev/null
# each engine runs it once before any timing
for cmd in "$RAIND run --rm --network none $IMAGE true" "$PODMAN run --rm --network none $PODMAN_RUN $IMAGE true" \
  "$DOCKER run --rm --network none $IMAGE true"; do
  $cmd || die "cannot run the image: $cmd"
done

VERSIONS="podman $(podman --version | awk '{print $3}'), docker $($DOCKER version -f '{{.Server.Version}}'), conmon $(conmon --version | awk 'NR==1 {print $3}'), runc $(runc --version | awk 'NR==1 {print $3}'), crun $(crun --version | awk 'NR==1 {print $3}')"
echo "versions: $VERSIONS; load average before: $(loadavg)"

# ---------------------------------------------------------------------------
# 1. run --rm --network none IMAGE true
# ---------------------------------------------------------------------------
note "1. run --rm true ($RUNS runs)"
bench --export-json "$WORK/run.json" \
  -n "raind" "$RAIND run --rm --network none $IMAGE true" \
  -n "raind --runtime crun" "$RAIND run --rm --network none --runtime crun $IMAGE true" \
  -n "raind --runtime runc" "$RAIND run --rm --network none --runtime runc $IMAGE true" \
  -n "podman" "$PODMAN run --rm --network none $PODMAN_RUN $IMAGE true" \
  -n "podman --runtime runc" "$PODMAN run --rm --network none --runtime runc $PODMAN_RUN $IMAGE true" \
  -n "docker" "$DOCKER run --rm --network none $IMAGE true"

# ---------------------------------------------------------------------------
# 2. ps -a with PS_N created (never started) containers
# ---------------------------------------------------------------------------
note "2. creating $PS_N containers in each engine"
for ((i = 0; i < PS_N; i++)); do
  $RAIND create --network none "$IMAGE" true >/dev/null
  $PODMAN create --network none $PODMAN_RUN "$IMAGE" true >/dev/null
  $DOCKER create --network none "$IMAGE" true >/dev/null
done
[[ $($RAIND ps -aq | wc -l) -eq $PS_N ]] || die "raind ps -a does not list $PS_N containers"
bench --export-json "$WORK/ps.json" -n "raind" "$RAIND ps -a" -n "podman" "$PODMAN ps -a" -n "docker" "$DOCKER ps -a"
note "removing them"
mapfile -t ids < <($RAIND ps -aq --no-trunc)
$RAIND rm -f "${ids[@]}" >/dev/null
$PODMAN rm -af >/dev/null
mapfile -t ids < <($DOCKER ps -aq)
$DOCKER rm -f "${ids[@]}" >/dev/null

# ---------------------------------------------------------------------------
# 3. memory of the per-container processes of IDLE_N running containers
# ---------------------------------------------------------------------------
note "3. starting $IDLE_N idle containers (sleep) in each engine"
for ((i = 0; i < IDLE_N; i++)); do
  $RAIND run -d --network none "$IMAGE" sleep 3600 >/dev/null
  $PODMAN run -d --network none $PODMAN_RUN "$IMAGE" sleep 3600 >/dev/null
  $DOCKER run -d --network none "$IMAGE" sleep 3600 >/dev/null
done
sleep 2 # let each monitor settle after the start
# VmRSS and Pss (KB) of each pid, summed: "rss pss count"
memory_of() {
  local rss=0 pss=0 n=0 pid
  for pid in "$@"; do
    rss=$((rss + $(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")))
    pss=$((pss + $(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup")))
    n=$((n + 1))
  done
  echo "$rss $pss $n"
}
# raind's monitors: the pids conmon wrote in each container's run directory
mapfile -t raind_pids < <(awk 1 "$WORK"/raind-run/containers/*/conmon.pid)
# podman's: the ConmonPid it records
mapfile -t podman_pids < <($PODMAN inspect --format '{{.State.ConmonPid}}' $($PODMAN ps -q))
# docker's: a containerd-shim-runc-v2 per container, the parent of the container's process
mapfile -t docker_pids < <(for p in $($DOCKER inspect --format '{{.State.Pid}}' $($DOCKER ps -q)); do awk '{ print $4 }' "/proc/$p/stat"; done)
read -r raind_rss raind_pss raind_n < <(memory_of "${raind_pids[@]}")
read -r podman_rss podman_pss podman_n < <(memory_of "${podman_pids[@]}")
read -r docker_rss docker_pss docker_n < <(memory_of "${docker_pids[@]}")
read -r daemons_rss daemons_pss _ < <(memory_of "$dockerd_pid" $(containerd_pids))
for e in raind podman docker; do
  n=${e}_n
  [[ ${!n} -eq $IDLE_N ]] || die "$e: found ${!n} per-container processes for $IDLE_N containers"
done

# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------
R=$WORK/run.json P=$WORK/ps.json
echo
echo "=== summary (runs=$RUNS, warmup=$WARMUP, load average after: $(loadavg)) ==="
echo
echo "| run --rm --network none IMAGE true | mean ms | raind/this |"
echo "|---|---:|---:|"
for n in "raind" "raind --runtime crun" "raind --runtime runc" "podman" "podman --runtime runc" "docker"; do
  echo "| $n | $(ms "$(mean "$R" "$n")") | $(ratio "$(mean "$R" raind)" "$(mean "$R" "$n")") |"
done
echo
echo "same runtime: raind/podman with crun $(ratio "$(mean "$R" "raind --runtime crun")" "$(mean "$R" podman)"), with runc $(ratio "$(mean "$R" "raind --runtime runc")" "$(mean "$R" "podman --runtime runc")")"
echo
echo "| ps -a, $PS_N created containers | mean ms | raind/this |"
echo "|---|---:|---:|"
for n in raind podman docker; do echo "| $n | $(ms "$(mean "$P" "$n")") | $(ratio "$(mean "$P" raind)" "$(mean "$P" "$n")") |"; done
echo
per() { awk -v k="$1" -v n="$2" 'BEGIN { printf "%.2f", k / n / 1024 }'; }
echo "| $IDLE_N idle containers | per-container process | RSS MB total | per container | Pss MB total | per container |"
echo "|---|---|---:|---:|---:|---:|"
echo "| raind | conmon | $(mb "$raind_rss") | $(per "$raind_rss" "$IDLE_N") | $(mb "$raind_pss") | $(per "$raind_pss" "$IDLE_N") |"
echo "| podman | conmon | $(mb "$podman_rss") | $(per "$podman_rss" "$IDLE_N") | $(mb "$podman_pss") | $(per "$podman_pss" "$IDLE_N") |"
echo "| docker | containerd-shim-runc-v2 | $(mb "$docker_rss") | $(per "$docker_rss" "$IDLE_N") | $(mb "$docker_pss") | $(per "$docker_pss" "$IDLE_N") |"
echo
echo "raind/podman Pss $(ratio "$raind_pss" "$podman_pss"), RSS $(ratio "$raind_rss" "$podman_rss"); raind/docker Pss $(ratio "$raind_pss" "$docker_pss") (docker also keeps dockerd + containerd: $(mb "$daemons_rss") MB RSS, $(mb "$daemons_pss") MB Pss)"
