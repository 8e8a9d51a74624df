#!/usr/bin/env bash
# Sign-free photographs for the sign detector: Debian's desktop-background packages, installed
# under /usr/share/wallpapers and /usr/share/backgrounds. Training the detector needs them, and
# so does the test that re-checks the shipped detector's card; serving does not.
# Idempotent; needs apt-get and root or sudo.
#   bash scripts/install_backgrounds.sh                # fail when they cannot be installed (CI)
#   bash scripts/install_backgrounds.sh --best-effort  # say so and carry on (make test): that test is then skipped
set -euo pipefail
here="$(dirname "$0")"
packages=(plasma-workspace-wallpapers ukui-wallpapers mate-backgrounds)
if [ "${1:-}" = "--best-effort" ]; then
  bash "$here/apt_install.sh" --best-effort "the shipped-detector test will be skipped" "${packages[@]}"
else
  bash "$here/apt_install.sh" "${packages[@]}"
fi
