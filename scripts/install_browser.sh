#!/usr/bin/env bash
# Debian's Chromium for the real-browser test (Playwright drives it; its own browser
# download does not work offline). Idempotent; needs root (CI and dev machines run as root).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
/usr/bin/chromium --version
