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

if [[ -z "${BENCH_MOUNTNS:-}" ]]; then
  [[ $EUID -eq 0 ]] || { echo "bench/network.sh: run as root" >&2; exit 1; }
  export BENCH_MOUNTNS=1
  exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi

die() { echo "bench: error: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RAIND_BIN=${RAIND:-$REPO/dist/bin/raind}
RUNS=${BENCH_RUNS:-20}
WARMUP=${BENCH_WARMUP:-3}
MB=${BENCH_MB:-100}
PORT=${BENCH_PORT:-18400}
for c in hyperfine podman conmon crun jq curl; do
  command -v "$c" >/dev/null || die "$c is missing (scripts/install-deps.sh installs it)"
done
[[ -x "$RAIND_BIN" ]] || die "$RAIND_BIN not found: build first (node scripts/build.mjs)"
[[ -x /bin/busybox ]] || die "/bin/busybox not found (apt-get install busybox-static)"
unset NODE_EXTRA_CA_CERTS

WORK=$(mktemp -d /tmp/raind-bench-net.XXXXXX)
RAIND="$RAIND_BIN --root $WORK/raind --runroot $WORK/raind-run"
PODMAN="podman --root $WORK/podman --runroot $WORK/podman-run --tmpdir $WORK/podman-tmp"
export CONTAINERS_CONF=$WORK/containers.conf
# file locks and network configs of its own: no other podman on this machine sees this one
printf '[engine]\nlock_type = "file"\n[network]\nnetwork_config_dir = "%s"\n' "$WORK/podman-networks" >"$CONTAINERS_CONF"
IMAGE=bench/busybox:1
hf_pid=
CGROUP_PARENTS=()
for h in /sys/fs/cgroup/*/; do
  for p in raind libpod_parent; do [[ -d "$h$p" ]] || CGROUP_PARENTS+=("$h$p"); done
done

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n "$hf_pid" ]]; then kill "$hf_pid" 2>/dev/null; wait "$hf_pid" 2>/dev/null; fi
  note "cleaning up"
  if [[ -d "$WORK/raind" ]]; then
    mapfile -t ids < <($RAIND ps -aq --no-trunc 2>/dev/null)
    ((${#ids[@]})) && $RAIND rm -f "${ids[@]}" >/dev/null 2>&1
  fi
  if [[ -d "$WORK/podman" ]]; then
    $PODMAN rm -af -t 0 >/dev/null 2>&1
    $PODMAN system reset -f >/dev/null 2>&1
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

# crun 1.8 refuses a hybrid cgroup host while cgroup2 has any controller (see bench/containers.sh)
UNIFIED=/sys/fs/cgroup/unified
if [[ -n "$(cat "$UNIFIED/cgroup.controllers" 2>/dev/null)" ]]; then
  : >"$WORK/no-controllers"
  mount --bind "$WORK/no-controllers" "$UNIFIED/cgroup.controllers"
fi
PODMAN_RUN="--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=4096:4096"

mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/tmp" "$WORK/rootfs/etc"
cp /bin/busybox "$WORK/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$WORK/rootfs/bin/$a"; done
# the upload's sink: httpd hands the request body to it on stdin
mkdir -p "$WORK/rootfs/www/cgi-bin"
printf '#!/bin/sh\ncat >/dev/null\nprintf "Content-Type: text/plain\\r\\n\\r\\nok\\n"\n' >"$WORK/rootfs/www/cgi-bin/sink"
chmod +x "$WORK/rootfs/www/cgi-bin/sink"
head -c "${MB}M" /dev/zero >"$WORK/upload"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
CHANGES=(--change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin')
$RAIND import "${CHANGES[@]}" "$WORK/rootfs.tar" "$IMAGE" >/dev/null
$PODMAN import -q "${CHANGES[@]}" "$WORK/rootfs.tar" "$IMAGE" >/dev/null
for cmd in "$RAIND run --rm $IMAGE true" "$PODMAN run --rm $PODMAN_RUN $IMAGE true"; do
  $cmd || die "cannot run the image: $cmd"
done
echo "versions: podman $(podman --version | awk '{print $3}'), netavark $(dpkg-query -W -f '${Version}' netavark 2>/dev/null), crun $(crun --version | awk 'NR==1 {print $3}'); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

mean() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .mean * 1000' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
bench() {
  hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic "$@" >"$WORK/hyperfine.out" 2>&1 &
  hf_pid=$!
  wait "$hf_pid" || { cat "$WORK/hyperfine.out" >&2; die "hyperfine failed"; }
  hf_pid=
}

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
echo "=== summary (runs=$RUNS, warmup=$WARMUP, load average after: $(cut -d' ' -f1-3 /proc/loadavg)) ==="
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
