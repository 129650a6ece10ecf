#!/usr/bin/env bash
# Fetch the Debian kernel used by boot tests (UKI, disk, initramfs) into a cache directory, without
# installing it: `apt-get download` + `dpkg -x` (shared/e2e/README.md §1). Idempotent.
# usage: scripts/e2e-assets.sh [dir]     (default: $IMAGEKIT_E2E_DIR or ~/.cache/imagekit-e2e)
# Prints the directory; the kernel is <dir>/vmlinuz, modules under <dir>/root/lib/modules.
set -euo pipefail
dir=${1:-${IMAGEKIT_E2E_DIR:-$HOME/.cache/imagekit-e2e}}
mkdir -p "$dir"
if [ ! -f "$dir/vmlinuz" ]; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$pkg" ] || { echo "e2e-assets: cannot resolve linux-image-amd64 (run apt-get update)" >&2; exit 4; }
  tmp=$(mktemp -d)
  chmod 777 "$tmp"
  (cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1)
  dpkg -x "$tmp"/*.deb "$dir/root"
  rm -rf "$tmp"
  cp "$dir"/root/boot/vmlinuz-* "$dir/vmlinuz"
fi
echo "$dir"
