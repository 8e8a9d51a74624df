#!/usr/bin/env bash
# Sign-free photographs for the sign detector: Debian's desktop-background packages, installed
# under /usr/share/wallpapers and /usr/share/backgrounds. Training the detector needs them, and
# so does the test that re-checks the shipped detector's card; serving does not.
# Idempotent; needs apt-get and root or sudo.
#   bash scripts/install_backgrounds.sh                # fail when they cannot be installed (CI)
#   bash scripts/install_backgrounds.sh --best-effort  # say so and carry on (make test): that test is then skipped
set -euo pipefail
packages=(plasma-workspace-wallpapers ukui-wallpapers mate-backgrounds)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
install() {
  command -v apt-get >/dev/null || { echo "no apt-get on this machine" >&2; return 1; }
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
if ! install; then
  if [ "${1:-}" = "--best-effort" ]; then
    echo "warning: the background photographs could not be installed (needs apt-get and root or sudo);" \
         "the shipped-detector test will be skipped" >&2
    exit 0
  fi
  exit 1
fi
echo "installed: ${missing[*]}"
