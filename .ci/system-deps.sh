#!/usr/bin/env bash
# Install the Debian packages the book needs, only when they are missing.
#   egl       libEGL + Mesa (software rasteriser): pyrender renders offscreen with PYOPENGL_PLATFORM=egl
#   chromium  headless Chromium: `python -m infantpose.book check` opens the built pages
set -euo pipefail

need=()
case "${1:?usage: system-deps.sh egl|chromium}" in
  egl)
    ldconfig -p | grep -q 'libEGL.so.1 ' || need+=(libegl1)
    ldconfig -p | grep -q 'libEGL_mesa.so.0 ' || need+=(libegl-mesa0)
    ldconfig -p | grep -q 'libGL.so.1 ' || need+=(libgl1)
    ls /usr/lib/*/dri/swrast_dri.so >/dev/null 2>&1 || need+=(libgl1-mesa-dri)
    ;;
  chromium)
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
    ;;
  *) echo "unknown dependency group: $1" >&2; exit 2 ;;
esac
[ ${#need[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${need[*]} (apt-get)"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Missing Debian packages ${need[*]} and not root: run 'apt-get install ${need[*]}' as root." >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
