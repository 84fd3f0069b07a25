#!/usr/bin/env bash
# Installs a WebGPU-capable software Vulkan driver (Mesa lavapipe >= 24) on Debian bookworm,
# from bookworm-backports, when no usable driver is present. Refuses politely elsewhere:
# it never touches a machine that is not Debian/bookworm or where it is not root.
set -euo pipefail

have_lavapipe() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 24 
}

if [ "$(uname -s)" != "Linux" ]; then
  echo "setup-webgpu: not Linux; use the platform's own WebGPU driver (nothing to do)."; exit 0
fi
if have_lavapipe; then
  echo "setup-webgpu: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed."; exit 0
fi
if ! grep -qs 'VERSION_CODENAME=bookworm' /etc/os-release; then
  echo "setup-webgpu: this script only knows Debian bookworm; install Mesa >= 24 (lavapipe) or a GPU Vulkan driver by hand." >&2
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "setup-webgpu: needs root to apt-get install mesa-vulkan-drivers from bookworm-backports; re-run as root (GPU tests will be skipped until then)." >&2
  exit 0
fi

list=/etc/apt/sources.list.d/anybit-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat > "$list" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "setup-webgpu: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)."
