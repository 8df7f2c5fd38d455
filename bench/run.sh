#!/usr/bin/env bash
# Startup benchmark: `run /bin/true` under droplet, runc and crun (one hyperfine
# invocation), plus the RSS of droplet's init while it blocks on exec.fifo
# after `create` (compared with runc's init).
#
# Usage: sudo bench/run.sh            (must run as root)
# Env:   BENCH_RUNS=30 BENCH_WARMUP=3 BENCH_SKIP_CRUN=1
#        DROPLET=path RUNC=path CRUN=path   (override the binaries)
#
# Everything it creates (temp dir, state dirs, containers, a temporary cgroup v1
# mount for crun) is removed by the EXIT trap.
set -euo pipefail

# `create` leaves the container init orphaned (its parent, the runtime, exits).
# Orphans go to the nearest "child subreaper", else PID 1; on sandbox hosts PID 1
# may never reap, which would leave zombies behind. So re-exec this script as a
# subreaper (prctl(PR_SET_CHILD_SUBREAPER)=36, via perl because bash cannot) so
# that bash itself reaps them.
if [[ -z "${BENCH_SUBREAPER:-}" ]]; then
  export BENCH_SUBREAPER=1
  case "$(uname -m)" in x86_64) nr=157 ;; aarch64) nr=167 ;; *) nr= ;; esac
  if [[ -n "$nr" ]] && command -v perl >/dev/null; then
    exec perl -e 'syscall(shift, 36, 1, 0, 0, 0) == 0 or warn "bench: PR_SET_CHILD_SUBREAPER failed: $!\n";
                  exec @ARGV or die "bench: exec: $!\n"' "$nr" "$BASH" "$0" "$@"
  fi
fi

die() { echo "bench: error: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

[[ $EUID -eq 0 ]] || die "must run as root (container runtimes need it)"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}

declare -A BIN=(
  [droplet]=${DROPLET:-$REPO/bin/droplet}
  [runc]=${RUNC:-$(command -v runc || true)}
  [crun]=${CRUN:-$(command -v crun || true)}
)
RUNTIMES=(droplet runc crun)
for rt in droplet runc; do
  [[ -x "${BIN[$rt]}" ]] || die "$rt not found (set ${rt^^}=path)"
done
command -v hyperfine >/dev/null || die "hyperfine not found"
[[ -x /usr/bin/busybox ]] || die "/usr/bin/busybox not found (apt-get install busybox-static)"

# NODE_EXTRA_CA_CERTS makes every Node start re-read a CA bundle (~50 ms here),
# which would swamp droplet's numbers; run every timed command without it.
NOENV=(env -u NODE_EXTRA_CA_CERTS)

WORK=$(mktemp -d /tmp/raind-bench.XXXXXX)
BUNDLE=$WORK/bundle
root_of() { echo "$WORK/state-$1"; }   # one --root state dir per runtime

CRUN_NOTE=""          # why crun was skipped, if it was
CG_MNT=""             # temporary cgroup v1 mount made for crun (see below)
CG_CTRLS=""           # controllers we moved off cgroup2, e.g. "hugetlb"
UNIFIED=/sys/fs/cgroup/unified

# ---------------------------------------------------------------------------
# crun on a hybrid cgroup host
#
# crun 1.8 refuses hybrid mode unless /sys/fs/cgroup/unified/cgroup.controllers
# is empty ("cgroups in hybrid mode not supported, drop all controllers from
# cgroupv2"). On this host hugetlb is the only controller left on cgroup2
# (no v1 mount for it) and nothing enables it in cgroup.subtree_control.
# Mounting a cgroup v1 hierarchy with that controller (anywhere; we use our temp
# dir, not /sys/fs/cgroup) moves it off cgroup2; unmounting an *empty* v1
# hierarchy moves it back. The kernel refuses the move (EBUSY) if the controller
# is in use on cgroup2, so this cannot disturb existing cgroup2 users.
# ---------------------------------------------------------------------------
setup_crun_cgroups() {
  [[ "$(stat -fc %T /sys/fs/cgroup)" == tmpfs && "$(stat -fc %T "$UNIFIED" 2>/dev/null)" == cgroup2fs ]] ||
    { CRUN_NOTE="not a hybrid cgroup layout; don't know how to fix crun here"; return 1; }
  CG_CTRLS=$(<"$UNIFIED/cgroup.controllers")
  [[ -n "$CG_CTRLS" ]] || { CRUN_NOTE="cgroup2 already has no controllers; crun fails for another reason"; return 1; }
  [[ -z "$(<"$UNIFIED/cgroup.subtree_control")" ]] ||
    { CRUN_NOTE="cgroup2 controllers ($CG_CTRLS) are in use (subtree_control), not moving them"; return 1; }
  mkdir -p "$WORK/cgroup-v1"
  note "moving cgroup2 controller(s) '$CG_CTRLS' to a temporary v1 mount at $WORK/cgroup-v1 for crun (undone on exit)"
  if ! mount -t cgroup -o "${CG_CTRLS// /,}" raind-bench "$WORK/cgroup-v1"; then
    CRUN_NOTE="could not mount a v1 hierarchy for '$CG_CTRLS'"; return 1
  fi
  CG_MNT=$WORK/cgroup-v1
}

# Number of cgroups in the hierarchy holding controller $1 (from /proc/cgroups).
cg_count() { awk -v c="$1" '$1 == c { print $3 }' /proc/cgroups; }

# Undo setup_crun_cgroups. A v1 hierarchy that still has child groups survives
# its umount (hidden) and keeps the controller off cgroup2, so first remove the
# (empty) groups runtimes leave behind, e.g. droplet's "droplet/" parent.
restore_crun_cgroups() {
  [[ -n "$CG_MNT" ]] || return 0
  local first=${CG_CTRLS%% *} attempt i
  for attempt in 1 2 3; do
    if ((attempt > 1)); then   # hierarchy was not torn down: reattach and retry
      mount -t cgroup -o "${CG_CTRLS// /,}" raind-bench "$CG_MNT" || break
    fi
    for i in {1..20}; do
      find "$CG_MNT" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
      [[ -z "$(find "$CG_MNT" -mindepth 1 -type d -print -quit)" ]] && break
      sleep 0.5
    done
    if [[ -n "$(find "$CG_MNT" -mindepth 1 -type d -print -quit)" ]]; then
      note "WARNING: cgroups still in use under $CG_MNT; leaving it mounted."
      note "  to restore: remove them (find $CG_MNT -mindepth 1 -depth -type d -exec rmdir {} \\;) then umount $CG_MNT"
      return 1
    fi
    # rmdir returns before the kernel frees the group; umount only destroys the
    # hierarchy if it has no children at that moment, so wait for the count.
    for i in {1..50}; do [[ "$(cg_count "$first")" == 1 ]] && break; sleep 0.1; done
    umount "$CG_MNT" || { note "WARNING: umount $CG_MNT failed"; return 1; }
    # Teardown is asynchronous: wait for the controllers to reappear on cgroup2.
    for i in {1..50}; do
      if [[ "$(<"$UNIFIED/cgroup.controllers")" == "$CG_CTRLS" ]]; then
        note "restored '$CG_CTRLS' to cgroup2"
        CG_MNT=""
        return 0
      fi
      sleep 0.1
    done
  done
  note "WARNING: '$CG_CTRLS' did not return to cgroup2 ($UNIFIED/cgroup.controllers='$(<"$UNIFIED/cgroup.controllers")')"
  note "  to restore: mount -t cgroup -o ${CG_CTRLS// /,} none DIR; rmdir its subdirs; umount DIR"
  CG_MNT=""
  return 1
}

cleanup() {
  local rc=$? rt
  trap - EXIT INT TERM
  # Stop hyperfine if we are interrupted mid-benchmark, and let it finish dying.
  if [[ -n "${HF_PID:-}" ]]; then kill "$HF_PID" 2>/dev/null || true; wait "$HF_PID" 2>/dev/null || true; fi
  # A runtime hyperfine was running is now our (adopted) child: let it finish
  # before force-deleting, so it cannot recreate state behind our back.
  for _ in {1..50}; do pgrep -P $$ >/dev/null || break; sleep 0.1; done
  # Force-delete every container id we may have used, in case we died midway.
  for rt in "${RUNTIMES[@]}"; do
    [[ -d "$(root_of "$rt")" && -n "${BIN[$rt]}" ]] || continue
    for id in "bench-$rt" "rss-$rt"; do
      "${NOENV[@]}" "${BIN[$rt]}" --root "$(root_of "$rt")" delete -f "$id" >/dev/null 2>&1 || true
    done
  done
  restore_crun_cgroups || rc=1
  # Never rm -rf across a live mount (a cgroup fs would have its groups rmdir'd).
  if grep -q " $WORK/" /proc/self/mountinfo; then
    note "WARNING: mounts remain under $WORK; not removing it"
  else
    rm -rf "$WORK"
  fi
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
"${NOENV[@]}" node -e '
  const fs = require("fs"), f = process.argv[1];
  const c = JSON.parse(fs.readFileSync(f, "utf8"));
  c.process.terminal = false;          // no tty: stdio is inherited/null
  c.process.args = ["/bin/true"];
  c.root.readonly = true;
  fs.writeFileSync(f, JSON.stringify(c, null, 2));
' "$BUNDLE/config.json"

# Runs $1 once with the bench id; 0 on success, stderr kept in $WORK/check-$1.err.
# The timed loop reuses one fixed id, which is only valid if foreground `run`
# deletes the container on exit, so check that too.
check_runtime() {
  local rt=$1 root id="bench-$1"
  root=$(root_of "$rt")
  "${NOENV[@]}" "${BIN[$rt]}" --root "$root" run -b "$BUNDLE" "$id" </dev/null >/dev/null 2>"$WORK/check-$rt.err" || {
    echo "(exit status $?)" >>"$WORK/check-$rt.err"
    return 1
  }
  if "${BIN[$rt]}" --root "$root" state "$id" >/dev/null 2>&1; then
    die "$rt: 'run' left container $id behind; a fixed container id cannot be reused"
  fi
}

for rt in droplet runc; do
  check_runtime "$rt" || die "$rt cannot run the bundle: $(cat "$WORK/check-$rt.err")"
  note "$rt: run /bin/true OK (container removed after run)"
done

if [[ -n "${BENCH_SKIP_CRUN:-}" ]]; then
  CRUN_NOTE="BENCH_SKIP_CRUN set"
elif [[ -z "${BIN[crun]}" ]]; then
  CRUN_NOTE="crun not installed"
elif ! check_runtime crun; then
  if grep -q "hybrid mode not supported" "$WORK/check-crun.err"; then
    note "crun: $(cat "$WORK/check-crun.err")"
    if setup_crun_cgroups; then
      check_runtime crun || die "crun still fails after cgroup setup: $(cat "$WORK/check-crun.err")"
    fi
  else
    die "crun cannot run the bundle: $(cat "$WORK/check-crun.err")"
  fi
fi
if [[ -n "$CRUN_NOTE" ]]; then
  note "skipping crun: $CRUN_NOTE"
  RUNTIMES=(droplet runc)
else
  note "crun: run /bin/true OK (container removed after run)"
fi

# ---------------------------------------------------------------------------
# 2. Time `run /bin/true`: one hyperfine invocation for all runtimes.
#    -N: no intermediate shell, so nothing but the runtime is timed.
# ---------------------------------------------------------------------------
HF_ARGS=()
for rt in "${RUNTIMES[@]}"; do
  HF_ARGS+=(-n "$rt" "env -u NODE_EXTRA_CA_CERTS ${BIN[$rt]} --root $(root_of "$rt") run -b $BUNDLE bench-$rt")
done
echo
# Started in the background and waited for, so a SIGTERM to this script runs the
# cleanup trap at once (bash defers traps while a foreground child runs).
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$WORK/hyperfine.json" "${HF_ARGS[@]}" &
HF_PID=$!
wait "$HF_PID" || die "hyperfine failed"
HF_PID=""

# crun is done; give the cgroup controllers back to cgroup2 right away.
restore_crun_cgroups || die "could not restore the cgroup setup (see above)"

# ---------------------------------------------------------------------------
# 3. RSS of the container init blocked on exec.fifo after `create`.
#    stdio goes to /dev/null: the init keeps it open, so a pipe would never
#    reach EOF for us.
# ---------------------------------------------------------------------------
# Sets RSS_KB and RSS_COMM for runtime $1's init (no subshell, so die() works).
init_rss() {
  local rt=$1 root id="rss-$1" json pid status
  root=$(root_of "$rt")
  "${NOENV[@]}" "${BIN[$rt]}" --root "$root" create -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 ||
    die "$rt create failed"
  json=$("${BIN[$rt]}" --root "$root" state "$id")
  read -r pid status < <(echo "$json" | "${NOENV[@]}" node -e '
    const s = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(s.pid, s.status);')
  [[ "$status" == created ]] || die "$rt: expected status created, got $status"
  RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
  RSS_COMM=$(<"/proc/$pid/comm")
  "${BIN[$rt]}" --root "$root" delete -f "$id" >/dev/null
}
mb() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }

init_rss droplet; DROPLET_KB=$RSS_KB DROPLET_COMM=$RSS_COMM
init_rss runc;    RUNC_KB=$RSS_KB RUNC_COMM=$RSS_COMM
echo
echo "init RSS while blocked on exec.fifo (VmRSS):"
printf '  %-8s %-14s %8s KB  %6s MB\n' droplet "$DROPLET_COMM" "$DROPLET_KB" "$(mb "$DROPLET_KB")"
printf '  %-8s %-14s %8s KB  %6s MB\n' runc "$RUNC_COMM" "$RUNC_KB" "$(mb "$RUNC_KB")"

# ---------------------------------------------------------------------------
# 4. Summary.
# ---------------------------------------------------------------------------
echo
echo "=== summary (runs=$RUNS, warmup=$WARMUP) ==="
"${NOENV[@]}" node "$REPO/bench/summary.mjs" "$WORK/hyperfine.json" "$CRUN_NOTE"
echo "droplet init RSS while blocked on exec.fifo: $DROPLET_KB KB ($(mb "$DROPLET_KB") MB) (runc init: $RUNC_KB KB ($(mb "$RUNC_KB") MB))"
