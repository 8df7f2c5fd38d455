#!/usr/bin/env bash
# Installs the built executables under PREFIX (default /usr/local):
#   PREFIX/bin/droplet                 the compiled executable (and links to it, one per program)
#   PREFIX/libexec/raind/droplet-init  the container init
#   PREFIX/libexec/raind/*.node        the addon
#   raind.service, raind.socket        systemd units, in $SYSTEMD_UNIT_DIR when it is set
# The executable finds libexec/raind from its own path, so the prefix can be moved later.
# Usage: scripts/install.sh [PREFIX]   (after npm ci or npm run build)
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${1:-/usr/local}
[ -x dist/bin/droplet ] || { echo "install: dist/bin/droplet is missing: run npm run build first" >&2; exit 1; }

# Copies aside, then renames over the old file: a running droplet keeps its executable.
put() {
  local from=$1 to=$2 mode=$3
  install -m "$mode" "$from" "$to.new"
  mv -f "$to.new" "$to"
}

install -d "$prefix/bin" "$prefix/libexec/raind"
for f in dist/libexec/raind/*; do
  put "$f" "$prefix/libexec/raind/$(basename "$f")" 0755
done
for f in dist/bin/*; do
  if [ -L "$f" ]; then
    ln -sfn "$(readlink "$f")" "$prefix/bin/$(basename "$f")"
  else
    put "$f" "$prefix/bin/$(basename "$f")" 0755
  fi
done
echo "installed in $prefix: $(cd "$prefix" && du -shc bin/droplet libexec/raind | tail -1 | cut -f1)"

# The systemd units (socket activation: raind serve -H fd://), when SYSTEMD_UNIT_DIR names
# where to put them (/etc/systemd/system). Enable with:
#   groupadd --system raind; systemctl daemon-reload; systemctl enable --now raind.socket
unitdir=${SYSTEMD_UNIT_DIR:-}
if [ -n "$unitdir" ]; then
  install -d "$unitdir"
  sed "s|@PREFIX@|$prefix|g" contrib/systemd/raind.service >"$unitdir/raind.service.new"
  mv -f "$unitdir/raind.service.new" "$unitdir/raind.service"
  put contrib/systemd/raind.socket "$unitdir/raind.socket" 0644
  chmod 0644 "$unitdir/raind.service"
  echo "systemd units in $unitdir: groupadd --system raind; systemctl daemon-reload; systemctl enable --now raind.socket"
fi
