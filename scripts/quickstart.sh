#!/usr/bin/env bash
# Installs what is needed, builds droplet and raind, makes an image on the spot (a Debian
# minbase with bash from mmdebstrap; busybox-static when the mirror cannot be reached) and
# walks through the seed's demo: create leaves `droplet init` waiting on exec.fifo, start
# turns the same PID into the command, exec -t shows it as PID 1 inside.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

bash scripts/install-deps.sh

raind="$repo/dist/bin/raind"
root=${RAIND_ROOT:-/var/lib/raind}
image=raind/debian:bookworm
if ! bash scripts/make-debian-image.sh --root "$root" "$image"; then
  echo "quickstart: no Debian image (is the mirror reachable?); using busybox-static instead" >&2
  image=raind/busybox:latest
  rootfs=$(mktemp -d /tmp/raind-busybox.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
  cp /usr/bin/busybox "$rootfs/bin/busybox"
  for applet in $(busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
  tar -C "$rootfs" -c . | "$raind" --root "$root" import --change 'CMD ["/bin/sh"]' - "$image" >/dev/null
fi

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
r() { "$raind" --root "$root" "$@"; }

say "raind container create $image /bin/sh -c 'echo hello; sleep 3600'"
id=$(r container create "$image" /bin/sh -c 'echo hello; sleep 3600')
echo "$id"
pid=$(r container inspect "$id" | jq -r '.[0].State.Pid')
say "ps -f -p $pid"
ps -f -p "$pid"
say "ls $root/containers/$id"
ls "$root/containers/$id"
say "raind container start $id"
r container start "$id"
say "ps -f -p $pid --ppid $pid   # the same PID, now the command"
ps -f -p "$pid" --ppid "$pid"
say "raind container exec -t $id ps -ef   # PID 1 inside"
# -t needs a terminal on this side; without one, the same without it
if [ -t 0 ]; then r container exec -t "$id" ps -ef; else r container exec "$id" ps -ef; fi
say "raind container logs $id"
r container logs "$id"
say "raind container rm -f $id"
r container rm -f "$id"

# The same store as the Docker Engine API: the docker CLI is a client of it
socket=/run/raind/raind.sock
"$raind" --root "$root" serve -H "unix://$socket" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "${rootfs:-}"' EXIT
for _ in $(seq 100); do [ -S "$socket" ] && break; sleep 0.05; done
say "DOCKER_HOST=unix://$socket docker run --rm $image sh -c 'echo hello from docker; ps -ef'"
DOCKER_HOST="unix://$socket" docker run --rm --pull never "$image" sh -c 'echo hello from docker; ps -ef'
kill "$server"
wait "$server" 2>/dev/null || true
echo
echo "Try it yourself: $raind run --rm -it $image"
echo "or, with the Docker CLI: sudo $raind serve &   then   DOCKER_HOST=unix://$socket docker run --rm -it $image sh"
