#!/usr/bin/env bash
# Startup benchmark of droplet (the compiled executable) against runc and crun, in one
# hyperfine invocation: `run /bin/true`, then `create`, `start` and `delete` timed one by
# one, and `state` of a created container. Then the peak RSS of each runtime process for
# each command (/usr/bin/time -f %M), the RSS of each runtime's init while it waits on
# exec.fifo, and the size of droplet's install.
#
# Usage: sudo bench/run.sh            (must run as root)
# Env:   BENCH_RUNS=30 BENCH_WARMUP=3 BENCH_RSS_RUNS=5 BENCH_SKIP_CRUN=1
#        DROPLET=path RUNC=path CRUN=path   (override the binaries)
#
# Everything it creates (temp dir, state dirs, containers) is removed by the EXIT trap;
# the one mount it makes lives in a mount namespace of its own.
set -euo pipefail

# `create` leaves the container init orphaned (its parent, the runtime, exits).
# Orphans go to the nearest "child subreaper", else PID 1; on sandbox hosts PID 1
# may never reap, which would leave zombies behind. So re-exec this script as a
# subreaper (prctl(PR_SET_CHILD_SUBREAPER)=36, via perl because bash cannot) so
# that bash itself reaps them; the setting survives the exec into unshare below.
if [[ -z "${BENCH_SUBREAPER:-}" ]]; then
  export BENCH_SUBREAPER=1
  case "$(uname -m)" in x86_64) nr=157 ;; aarch64) nr=167 ;; *) nr= ;; esac
  if [[ -n "$nr" ]] && command -v perl >/dev/null; then
    exec perl -e 'syscall(shift, 36, 1, 0, 0, 0) == 0 or warn "bench: PR_SET_CHILD_SUBREAPER failed: $!\n";
                  exec @ARGV or die "bench: exec: $!\n"' "$nr" "$BASH" "$0" "$@"
  fi
fi
# A mount namespace of its own: the crun fix below must not be seen by anyone else.
if [[ -z "${BENCH_MOUNTNS:-}" ]]; then
  export BENCH_MOUNTNS=1
  exec unshare --mount --propagation private "$BASH" "$0" "$@"
fi

die() { echo "bench: error: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[[ $EUID -eq 0 ]] || die "must run as root (container runtimes need it)"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}
RSS_RUNS=${BENCH_RSS_RUNS:-5}

declare -A BIN=(
  [droplet]=${DROPLET:-$REPO/dist/bin/droplet}
  [runc]=${RUNC:-$(command -v runc || true)}
  [crun]=${CRUN:-$(command -v crun || true)}
)
RUNTIMES=(droplet runc crun)
for rt in droplet runc; do
  [[ -x "${BIN[$rt]}" ]] || die "$rt not found (set ${rt^^}=path)"
done
command -v hyperfine >/dev/null || die "hyperfine not found"
[[ -x /usr/bin/busybox ]] || die "/usr/bin/busybox not found (apt-get install busybox-static)"

# NODE_EXTRA_CA_CERTS makes every Node start re-read a CA bundle (~50 ms here): a
# DROPLET= pointing at a Node build, and the node that prints the summary, run without it.
unset NODE_EXTRA_CA_CERTS

WORK=$(mktemp -d /tmp/raind-bench.XXXXXX)
BUNDLE=$WORK/bundle
root_of() { echo "$WORK/state-$1"; }   # one --root state dir per runtime
rt_of() { echo "${BIN[$1]} --root $(root_of "$1")"; }
# container ids, each suffixed with the runtime: run, create, start, delete, state, RSS
IDS=(run create start delete state rss)
CRUN_NOTE=""   # why crun was skipped, if it was

cleanup() {
  local rc=$? rt id
  trap - EXIT INT TERM
  # Stop hyperfine if we are interrupted mid-benchmark, and let it finish dying.
  if [[ -n "${HF_PID:-}" ]]; then kill "$HF_PID" 2>/dev/null || true; wait "$HF_PID" 2>/dev/null || true; fi
  # A runtime hyperfine was running is now our (adopted) child: let it finish
  # before force-deleting, so it cannot recreate state behind our back.
  for _ in {1..50}; do pgrep -P $$ >/dev/null || break; sleep 0.1; done
  # Force-delete every container id we may have used, in case we died midway.
  for rt in "${RUNTIMES[@]}"; do
    [[ -d "$(root_of "$rt")" && -n "${BIN[$rt]}" ]] || continue
    for id in "${IDS[@]/%/-$rt}"; do $(rt_of "$rt") delete -f "$id" >/dev/null 2>&1 || true; done
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# 1. Minimal bundle: static busybox, read-only rootfs, /bin/true.
# ---------------------------------------------------------------------------
mkdir -p "$BUNDLE/rootfs/bin"
cp /usr/bin/busybox "$BUNDLE/rootfs/bin/busybox"
for applet in sh true sleep; do ln -s busybox "$BUNDLE/rootfs/bin/$applet"; done
# `runc spec` gives a config all three runtimes accept; then adjust it.
(cd "$BUNDLE" && "${BIN[runc]}" spec)
node -e '
  const fs = require("fs"), f = process.argv[1];
  const c = JSON.parse(fs.readFileSync(f, "utf8"));
  c.process.terminal = false;          // no tty: stdio is inherited/null
  c.process.args = ["/bin/true"];
  c.root.readonly = true;
  fs.writeFileSync(f, JSON.stringify(c, null, 2));
' "$BUNDLE/config.json"

# Runs $1 once; 0 on success, stderr kept in $WORK/check-$1.err. The timed loop reuses
# one id, which is only valid if a foreground `run` deletes the container, so check that.
check_runtime() {
  local rt=$1
  $(rt_of "$rt") run -b "$BUNDLE" "run-$rt" </dev/null >/dev/null 2>"$WORK/check-$rt.err" || {
    echo "(exit status $?)" >>"$WORK/check-$rt.err"
    return 1
  }
  if $(rt_of "$rt") state "run-$rt" >/dev/null 2>&1; then
    die "$rt: 'run' left container run-$rt behind; a fixed container id cannot be reused"
  fi
}

for rt in droplet runc; do
  check_runtime "$rt" || die "$rt cannot run the bundle: $(cat "$WORK/check-$rt.err")"
done

# crun 1.8 refuses a hybrid cgroup host while the cgroup2 mount has any controller
# ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"); here
# hugetlb is left there, unused. In this script's own mount namespace an empty file
# over cgroup.controllers hides it from crun, and changes nothing for anyone else.
UNIFIED=/sys/fs/cgroup/unified
if [[ -n "${BENCH_SKIP_CRUN:-}" ]]; then
  CRUN_NOTE="BENCH_SKIP_CRUN set"
elif [[ -z "${BIN[crun]}" ]]; then
  CRUN_NOTE="crun not installed"
elif ! check_runtime crun; then
  grep -q "hybrid mode not supported" "$WORK/check-crun.err" || die "crun cannot run the bundle: $(cat "$WORK/check-crun.err")"
  : >"$WORK/no-controllers"
  mount --bind "$WORK/no-controllers" "$UNIFIED/cgroup.controllers" || die "cannot hide $UNIFIED/cgroup.controllers from crun"
  note "crun: hybrid cgroup host; cgroup2's controllers hidden from it in this mount namespace"
  check_runtime crun || die "crun cannot run the bundle: $(cat "$WORK/check-crun.err")"
fi
if [[ -n "$CRUN_NOTE" ]]; then
  note "skipping crun: $CRUN_NOTE"
  RUNTIMES=(droplet runc)
fi

# ---------------------------------------------------------------------------
# 2. One hyperfine invocation. Each command is one runtime invocation; what it needs
#    first (no container, a created one, a stopped one) is its --prepare, untimed.
#    -N: no intermediate shell, so nothing but the runtime is timed.
# ---------------------------------------------------------------------------
# A prepare step that leaves container $2 of runtime $1 absent, created, or stopped.
prepare() {
  local r id=$2
  r=$(rt_of "$1")
  case $3 in
    absent)  echo "sh -c '$r delete -f $id >/dev/null 2>&1; true'" ;;
    created) echo "sh -c '$r delete -f $id >/dev/null 2>&1; $r create -b $BUNDLE $id </dev/null >/dev/null'" ;;
    stopped) echo "sh -c '$r delete -f $id >/dev/null 2>&1; $r create -b $BUNDLE $id </dev/null >/dev/null &&
             $r start $id && until $r state $id | grep -q stopped; do :; done'" ;;
  esac
}
HF_OPTS=() HF_CMDS=()
timed() { HF_OPTS+=(-n "$1" --prepare "$2"); HF_CMDS+=("$3"); }   # name, prepare, command
for rt in "${RUNTIMES[@]}"; do
  r=$(rt_of "$rt")
  # the container whose state is read stays created through the whole benchmark
  $r create -b "$BUNDLE" "state-$rt" </dev/null >/dev/null || die "$rt create failed"
  timed "$rt run"    true                                     "$r run -b $BUNDLE run-$rt"
  timed "$rt create" "$(prepare "$rt" "create-$rt" absent)"   "$r create -b $BUNDLE create-$rt"
  timed "$rt start"  "$(prepare "$rt" "start-$rt" created)"   "$r start start-$rt"
  timed "$rt delete" "$(prepare "$rt" "delete-$rt" stopped)"  "$r delete delete-$rt"
  timed "$rt state"  true                                     "$r state state-$rt"
done
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Started in the background and waited for, so a SIGTERM to this script runs the
# cleanup trap at once (bash defers traps while a foreground child runs).
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORK/hyperfine.json" "${HF_OPTS[@]}" "${HF_CMDS[@]}" &
HF_PID=$!
wait "$HF_PID" || die "hyperfine failed"
HF_PID=""

# ---------------------------------------------------------------------------
# 3. Peak RSS of each runtime process, per command (the largest of BENCH_RSS_RUNS
#    runs; /usr/bin/time's %M also counts children it waited for, here the small C
#    launcher), and of each runtime's init while it blocks on exec.fifo (VmRSS).
# ---------------------------------------------------------------------------
# Peak KB of one invocation of runtime $1 with the arguments that follow. Its output goes
# to /dev/null, time's to a file: an init started by create keeps the stdio it inherits.
peak() {
  local rt=$1
  shift
  /usr/bin/time -o "$WORK/peak" -f %M $(rt_of "$rt") "$@" </dev/null >/dev/null 2>&1 || die "$rt $* failed"
  tail -1 "$WORK/peak"
}
max() { echo $(($1 > $2 ? $1 : $2)); }
RSS_JSON=$WORK/rss.json
echo '{' >"$RSS_JSON"
for rt in "${RUNTIMES[@]}"; do
  r=$(rt_of "$rt")
  run_kb=0 create_kb=0 start_kb=0 delete_kb=0 state_kb=0
  for ((i = 0; i < RSS_RUNS; i++)); do
    run_kb=$(max "$run_kb" "$(peak "$rt" run -b "$BUNDLE" "rss-$rt")")
    create_kb=$(max "$create_kb" "$(peak "$rt" create -b "$BUNDLE" "rss-$rt")")
    start_kb=$(max "$start_kb" "$(peak "$rt" start "rss-$rt")")
    until $r state "rss-$rt" | grep -q stopped; do :; done
    delete_kb=$(max "$delete_kb" "$(peak "$rt" delete "rss-$rt")")
    state_kb=$(max "$state_kb" "$(peak "$rt" state "state-$rt")")
  done
  # the init of a created container, blocked on exec.fifo
  pid=$($r state "state-$rt" | sed -n 's/.*"pid" *: *\([0-9]*\).*/\1/p')
  init_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
  printf '  "%s": {"run": %s, "create": %s, "start": %s, "delete": %s, "state": %s, "init": %s},\n' \
    "$rt" "$run_kb" "$create_kb" "$start_kb" "$delete_kb" "$state_kb" "$init_kb" >>"$RSS_JSON"
  $r delete -f "state-$rt" >/dev/null
done

# droplet's own memory while it waits for its container in a foreground run: anonymous
# (its own) and file-backed (the executable's pages, shared through the page cache)
sleeper=$WORK/sleeper
mkdir -p "$sleeper"
ln -s ../bundle/rootfs "$sleeper/rootfs"
sed 's|"/bin/true"|"/bin/sleep", "1"|' "$BUNDLE/config.json" >"$sleeper/config.json"
$(rt_of droplet) run -b "$sleeper" rss-droplet </dev/null >/dev/null &
fg=$!
sleep 0.5
anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$fg/status")
file=$(awk '/^RssFile:/ { print $2 }' "/proc/$fg/status")
wait "$fg"
echo "  \"dropletRun\": {\"anon\": $anon, \"file\": $file}," >>"$RSS_JSON"

# The install: the executable and libexec/raind, as scripts/install.sh lays them out
bindir=$(dirname "$(readlink -f "${BIN[droplet]}")")
install_kb=$(du -skL "$bindir/droplet" "$bindir/../libexec/raind" | awk '{ s += $1 } END { print s }')
echo "  \"installKB\": $install_kb" >>"$RSS_JSON"
echo '}' >>"$RSS_JSON"

# ---------------------------------------------------------------------------
# 4. Summary: medians, ratios, RSS.
# ---------------------------------------------------------------------------
echo
echo "=== summary (runs=$RUNS, warmup=$WARMUP, load average after: $(cut -d' ' -f1-3 /proc/loadavg)) ==="
node "$REPO/bench/summary.mjs" "$WORK/hyperfine.json" "$RSS_JSON" "$CRUN_NOTE"
