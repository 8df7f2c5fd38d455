#!/usr/bin/env bash
# Installs what is needed, builds droplet, and runs a first container: a busybox shell that
# shows it is PID 1 in its own namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

bash scripts/install-deps.sh

bundle=$(mktemp -d /tmp/raind-hello.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin"
cp /usr/bin/busybox "$bundle/rootfs/bin/busybox"
# one symlink per applet; the list names busybox itself, which must stay the binary
for applet in $(busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$bundle/rootfs/bin/$applet"
done

cd "$bundle"
"$repo/dist/bin/droplet" spec
# The default process is `sh` reading its commands from stdin.
echo 'echo "hello from a droplet container: I am PID $$ on host $(hostname)"; ps -o pid,args' |
  "$repo/dist/bin/droplet" run "hello-$$"
