#!/usr/bin/env bash
# Makes a Debian bookworm image for raind on the spot: a minbase rootfs with bash and procps
# (so that `ps -ef` works inside), bootstrapped from the Debian mirror this machine's apt
# uses and streamed as a tar into `raind image import`, with CMD ["/bin/bash"].
#
#   scripts/make-debian-image.sh [--root DIR] [--force] [REF]    REF: raind/debian:bookworm
#
# --root DIR (or $RAIND_ROOT) is passed to raind as its store; --force makes the image again
# when REF already exists (otherwise nothing is done). The raind used is $RAIND, else this
# checkout's dist/bin/raind, else the one in PATH. The mirror is $DEBIAN_MIRROR if set, else
# the host's apt sources for bookworm (so no other network than the mirror is needed).
# mmdebstrap makes the rootfs; without it (or with BOOTSTRAP=debootstrap), debootstrap into a
# directory that is then tarred.
# Everything temporary lives in one mktemp directory, removed on exit.
set -euo pipefail

usage() { echo "usage: $0 [--root DIR] [--force] [REF]" >&2; exit 2; }

suite=bookworm
root="${RAIND_ROOT:-}"
force=0
ref=
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || usage; root="$2"; shift 2 ;;
    --root=*) root="${1#--root=}"; shift ;;
    --force) force=1; shift ;;
    -h | --help) usage ;;
    -*) echo "make-debian-image: unknown option $1" >&2; usage ;;
    *) [ -z "$ref" ] || usage; ref="$1"; shift ;;
  esac
done
ref="${ref:-raind/debian:$suite}"

[ "$(id -u)" -eq 0 ] || { echo "make-debian-image: run as root (the rootfs holds files of other owners and device nodes)" >&2; exit 1; }

here="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "${RAIND:-}" ]; then raind_bin="$RAIND"
elif [ -x "$here/dist/bin/raind" ]; then raind_bin="$here/dist/bin/raind"
elif command -v raind >/dev/null; then raind_bin="$(command -v raind)"
else echo "make-debian-image: no raind: build it (npm run build) or put it in PATH" >&2; exit 1
fi
raind() { if [ -n "$root" ]; then "$raind_bin" --root "$root" "$@"; else "$raind_bin" "$@"; fi; }

if [ "$force" -eq 0 ] && raind image inspect "$ref" >/dev/null 2>&1; then
  echo "make-debian-image: $ref exists (--force to make it again)" >&2
  exit 0
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/raind-debian.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# The apt sources for the suite, as this machine's apt has them: deb822 stanzas of
# sources.list.d/*.sources and one-line entries of sources.list and *.list whose suites are
# bookworm, bookworm-updates or bookworm-security (other repositories, such as a vendor's,
# are left out). Written as one-line entries, which both bootstrappers take.
host_sources() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      function flush(   n, s, i) {
        if (types ~ /(^| )deb( |$)/ && uris != "") {
          n = split(suites, s, " ")
          for (i = 1; i <= n; i++)
            if (s[i] == suite || s[i] == suite "-updates" || s[i] == suite "-security")
              print "deb " uris " " s[i] " " (comps == "" ? "main" : comps)
        }
        types = ""; uris = ""; suites = ""; comps = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "") }
      key == "types" { types = $0 } key == "uris" { uris = $1 } key == "suites" { suites = $0 } key == "components" { comps = $0 }
      END { flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      $1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite || $(i + 1) == suite "-updates" || $(i + 1) == suite "-security") {
          line = "deb " $i; for (j = i + 1; j <= NF; j++) line = line " " $j; print line
        }
      }' "$f"
  done
}

if [ -n "${DEBIAN_MIRROR:-}" ]; then
  echo "deb $DEBIAN_MIRROR $suite main" >"$tmp/sources.list"
else
  host_sources | awk '!seen[$0]++' >"$tmp/sources.list"
fi
if ! grep -q " $suite " "$tmp/sources.list"; then
  echo "make-debian-image: no apt source for $suite in /etc/apt/sources.list{,.d}: set DEBIAN_MIRROR" >&2
  exit 1
fi
mirror="$(awk -v suite="$suite" '$3 == suite { print $2; exit }' "$tmp/sources.list")"

start=$(date +%s.%N)
# bootstrap: writes the rootfs as a tar on stdout, its log to $tmp/bootstrap.log
bootstrap() {
  set -e
  if [ "${BOOTSTRAP:-mmdebstrap}" = mmdebstrap ] && command -v mmdebstrap >/dev/null; then
    TMPDIR="$tmp" mmdebstrap --variant=minbase --include=bash,procps --format=tar \
      "$suite" - "$tmp/sources.list" 2>"$tmp/bootstrap.log"
  elif command -v debootstrap >/dev/null; then
    debootstrap --variant=minbase --include=procps "$suite" "$tmp/rootfs" "$mirror" >"$tmp/bootstrap.log" 2>&1
    cp "$tmp/sources.list" "$tmp/rootfs/etc/apt/sources.list"
    rm -rf "$tmp/rootfs/var/cache/apt/archives/"*.deb "$tmp/rootfs/var/lib/apt/lists/"*_Packages
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$tmp/rootfs" -cf - .
  else
    echo "make-debian-image: neither mmdebstrap nor debootstrap: apt-get install mmdebstrap" >&2
    return 1
  fi
}

echo "make-debian-image: $suite (minbase, bash, procps) from $mirror into $ref" >&2
set +e
bootstrap | raind image import --change 'CMD ["/bin/bash"]' - "$ref" >"$tmp/id"
status=("${PIPESTATUS[@]}")
set -e
# 141: the bootstrapper got SIGPIPE, raind having stopped reading: raind's error is the one
if [ "${status[0]}" -ne 0 ] && { [ "${status[0]}" -ne 141 ] || [ "${status[1]}" -eq 0 ]; }; then
  echo "make-debian-image: bootstrap of $suite from $mirror failed (is the mirror reachable? apt-get update tells):" >&2
  tail -n 20 "$tmp/bootstrap.log" >&2
  # a tar cut short at a header's boundary reads as a whole one: no image of it is kept
  [ "${status[1]}" -ne 0 ] || raind rmi "$ref" >/dev/null 2>&1 || true
  exit 1
fi
[ "${status[1]}" -eq 0 ] || { echo "make-debian-image: raind image import failed" >&2; exit 1; }
end=$(date +%s.%N)

id="$(cat "$tmp/id")"
# unpacked: the layers as history measures them; stored: the compressed blobs, as images shows
unpacked=$(raind history --format json "$ref" | awk '/"Size":/ { gsub(/,/, "", $2); s += $2 } END { print s + 0 }')
stored=$(raind images --format json | awk -v id="$id" '
  /"Id":/ { gsub(/[",]/, "", $2); cur = $2 } /"Size":/ && cur == id { gsub(/,/, "", $2); print $2; exit }')
awk -v ref="$ref" -v id="$id" -v a="$start" -v b="$end" -v u="$unpacked" -v s="${stored:-0}" \
  'BEGIN { printf "make-debian-image: %s %s in %.1f s: %.1f MB unpacked, %.1f MB compressed\n", ref, substr(id, 8, 12), b - a, u / 1e6, s / 1e6 }' >&2
echo "$id"
