#!/usr/bin/env bash
# Installs what droplet and its tests need on a fresh Debian machine, then builds droplet.
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" -eq 0 ] || { echo "install-deps: run as root (containers need it)" >&2; exit 1; }

# busybox-static: the test rootfs. netavark, aardvark-dns: the network stack raind drives. runc, crun, hyperfine: the benchmark's peers.
# podman, conmon, containerd, docker.io, skopeo: the real callers the tests drive droplet with.
# podman depends on golang-github-containers-common: /usr/share/containers/seccomp.json, the
# default seccomp profile raind gives containers. g++ (gcc, static libc): the seccomp tests' probe.
# docker-registry: the registry the image tests push to and pull from, on 127.0.0.1.
# time, curl, jq: bench/pull.sh (peak RSS, pushing the generated image, reading results).
# clang-format: npm test checks the format of native/.
# apache2-utils (htpasswd), openssl: the login and TLS tests' registry users and certificates.
# libcap2-bin (setcap), tar: a layer with a file capability, as GNU tar archives it.
# mmdebstrap, debootstrap (its fallback): scripts/make-debian-image.sh, the demo's Debian image.
# docker-compose (1.29, Python, the Docker API): a client of raind serve the tests did not write.
packages=(busybox-static docker-compose netavark aardvark-dns make g++ python3 clang-format runc crun hyperfine podman conmon containerd docker.io tini skopeo docker-registry apache2-utils openssl libcap2-bin tar time curl jq mmdebstrap debootstrap)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci builds droplet-init and the addon (node-gyp, "install"), then compiles droplet
# into dist/bin with the Bun of its npm package ("prepare").
npm ci --no-audit --no-fund
