#!/usr/bin/env bash
# Sign-free photographs for training the sign detector (traffic-signs train-detector): Debian's
# desktop-background packages, installed under /usr/share/wallpapers and /usr/share/backgrounds.
# Only training and shipping the detector need them; tests and serving do not. Idempotent; needs root.
set -euo pipefail
packages=(plasma-workspace-wallpapers ukui-wallpapers mate-backgrounds)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
