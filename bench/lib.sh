# Sourced by the engine benchmarks (containers.sh, network.sh, api.sh): what they share, so
# that a fix to the namespace, the checks, the timing or the cleanup is made once. Each
# script keeps its own engines, knobs, what its trap stops, and its summary.
#   bench_init NAME ARGS...   root, a mount namespace of its own, REPO RAIND_BIN RUNS WARMUP
#   require_tools CMD...      the commands, raind's executable and /bin/busybox
#   bench_workdir TAG         WORK (/tmp/raind-bench-TAG.*) and RAIND (raind on stores in it)
#   note_cgroup_parents NAME...  podman_store  hide_cgroup2_controllers  start_dockerd
#   busybox_rootfs DIR        busybox-static with a link per applet; CHANGES for the import
#   bench ARGS...             hyperfine in the background; mean / ratio / ms / mb to report
#   bench_traps               the EXIT trap: the script's cleanup_engines, then remove_work;
#                             remove_raind_containers, reset_podman, stop_dockerd for it

die() { echo "bench: error: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

# Re-executes the script (as "$0" with ARGS) in a mount namespace of its own: every overlay
# the engines mount lives there, and crun can be shown a cgroup2 without controllers
# (hide_cgroup2_controllers). NAME is the script's name in the one error it may print.
bench_init() {
  local name=$1
  shift
  if [[ -z "${BENCH_MOUNTNS:-}" ]]; then
    [[ $EUID -eq 0 ]] || { echo "$name: run as root" >&2; exit 1; }
    export BENCH_MOUNTNS=1
    exec unshare --mount --propagation private "$BASH" "$0" "$@"
  fi
  REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  RAIND_BIN=${RAIND:-$REPO/dist/bin/raind}
  RUNS=${BENCH_RUNS:-20}
  WARMUP=${BENCH_WARMUP:-3}
  hf_pid=
}

# Fails before anything is made when a tool is missing.
require_tools() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || die "$c is missing (scripts/install-deps.sh installs it)"
  done
  [[ -x "$RAIND_BIN" ]] || die "$RAIND_BIN not found: build first (node scripts/build.mjs)"
  [[ -x /bin/busybox ]] || die "/bin/busybox not found (apt-get install busybox-static)"
  # NODE_EXTRA_CA_CERTS makes every Node or Bun start re-read a CA bundle
  unset NODE_EXTRA_CA_CERTS
}

# Every store, socket and log under one temp dir that remove_work takes away.
bench_workdir() {
  WORK=$(mktemp -d "/tmp/raind-bench-$1.XXXXXX")
  RAIND="$RAIND_BIN --root $WORK/raind --runroot $WORK/raind-run"
}

# The engines' cgroup parents (NAME... under each hierarchy) that do not exist yet, so that
# remove_work can remove them if they are left empty.
note_cgroup_parents() {
  local h p
  CGROUP_PARENTS=()
  for h in /sys/fs/cgroup/*/; do
    for p in "$@"; do [[ -d "$h$p" ]] || CGROUP_PARENTS+=("$h$p"); done
  done
}

# podman on stores of its own under WORK. Its tmpdir (/run/libpod) and its shared-memory
# locks are global: a tmpdir and file locks of its own, so no other podman on this machine
# sees this one (a caller may append to CONTAINERS_CONF). PODMAN_RUN: podman asks for
# RLIMIT_NOFILE and RLIMIT_NPROC of 1048576, more than a process without CAP_SYS_RESOURCE
# may raise them to: this host's open-files limit (what raind gives its containers) and a
# process limit under its own.
podman_store() {
  PODMAN="podman --root $WORK/podman --runroot $WORK/podman-run --tmpdir $WORK/podman-tmp"
  export CONTAINERS_CONF=$WORK/containers.conf
  printf '[engine]\nlock_type = "file"\n' >"$CONTAINERS_CONF"
  PODMAN_RUN="--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=4096:4096"
}

# crun 1.8 refuses a hybrid cgroup host while cgroup2 has any controller; in this mount
# namespace an empty file over cgroup.controllers hides them from it (as bench/run.sh does).
# NOTE, if given, is said when there was something to hide.
hide_cgroup2_controllers() {
  local unified=/sys/fs/cgroup/unified
  if [[ -n "$(cat "$unified/cgroup.controllers" 2>/dev/null)" ]]; then
    : >"$WORK/no-controllers"
    mount --bind "$WORK/no-controllers" "$unified/cgroup.controllers"
    if [[ -n "${1:-}" ]]; then note "$1"; fi
  fi
}

# The image: busybox-static and its applets in DIR (with an empty /tmp and /etc), for the
# caller to tar and import with CHANGES.
CHANGES=(--change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin')
busybox_rootfs() {
  local dir=$1 a
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc"
  cp /bin/busybox "$dir/bin/busybox"
  for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$dir/bin/$a"; done
}

# A dockerd of our own on WORK/docker.sock (sets dockerd_pid): its own data and exec roots,
# no bridge, iptables or masquerading. The caller waits for it.
start_dockerd() {
  note "starting dockerd (data root $WORK/docker, socket $WORK/docker.sock)"
  dockerd --data-root "$WORK/docker" --exec-root "$WORK/docker-exec" --pidfile "$WORK/docker.pid" \
    -H "unix://$WORK/docker.sock" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --storage-driver overlay2 >"$WORK/dockerd.log" 2>&1 &
  dockerd_pid=$!
}
# the containerd that dockerd started
containerd_pids() { pgrep -f "^containerd --config $WORK/docker-exec/" || true; }

# ---------------------------------------------------------------------------
# Timing and reporting
# ---------------------------------------------------------------------------
# Runs hyperfine in the background and waits, so that SIGTERM runs the trap at once.
bench() {
  hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic "$@" >"$WORK/hyperfine.out" 2>&1 &
  hf_pid=$!
  wait "$hf_pid" || { cat "$WORK/hyperfine.out" >&2; die "hyperfine failed"; }
  hf_pid=
}
# mean ms of command NAME in a hyperfine JSON export: mean FILE NAME
mean() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .mean * 1000' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.1f", a }'; }
# KB as MB
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------------------
# Cleanup
# ---------------------------------------------------------------------------
# The traps: on EXIT (INT and TERM exit through it, keeping their status) stop a running
# hyperfine, run the script's own cleanup_engines (its servers and containers, with set +e),
# then remove_work, and exit with the script's status.
bench_traps() {
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
bench_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  stop_hyperfine
  note "cleaning up"
  cleanup_engines
  remove_work
  exit "$rc"
}
stop_hyperfine() {
  if [[ -n "$hf_pid" ]]; then kill "$hf_pid" 2>/dev/null; wait "$hf_pid" 2>/dev/null; fi
}
# TERM, then KILL after 15 s
stop_pid() {
  local pid=$1
  kill "$pid" 2>/dev/null || return 0
  for _ in {1..150}; do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
}
remove_raind_containers() {
  local ids
  if [[ -d "$WORK/raind" ]]; then
    mapfile -t ids < <($RAIND ps -aq --no-trunc 2>/dev/null)
    ((${#ids[@]})) && $RAIND rm -f "${ids[@]}" >/dev/null 2>&1
  fi
}
reset_podman() {
  if [[ -d "$WORK/podman" ]]; then
    $PODMAN rm -af -t 0 >/dev/null 2>&1
    $PODMAN system reset -f >/dev/null 2>&1
  fi
}
# dockerd's containers, then dockerd (which stops its containerd)
stop_dockerd() {
  local ids
  if [[ -n "$dockerd_pid" ]]; then
    mapfile -t ids < <(docker -H "unix://$WORK/docker.sock" ps -aq 2>/dev/null)
    ((${#ids[@]})) && docker -H "unix://$WORK/docker.sock" rm -f "${ids[@]}" >/dev/null 2>&1
    stop_pid "$dockerd_pid"
  fi
}
# Whatever still runs from our stores (a monitor, a shim, a container's process), the
# mounts under WORK deepest first, WORK itself, and the cgroup parents left empty with the
# empty groups below them (podman leaves libpod_parent/conmon), deepest first.
remove_work() {
  local pids d
  pids=$(pgrep -f -- "$WORK" | grep -vx "$$")
  [[ -n "$pids" ]] && kill -9 $pids 2>/dev/null && sleep 0.5
  awk -v w="$WORK" '$5 == w || index($5, w "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$WORK"
  for d in "${CGROUP_PARENTS[@]}"; do [[ -d "$d" ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
}
