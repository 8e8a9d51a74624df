#!/usr/bin/env bash
# Debian's Chromium for the real-browser test (Playwright drives it; its own browser
# download does not work offline). Idempotent; needs apt-get and root or sudo.
#   bash scripts/install_browser.sh                # fail when it cannot be installed (CI)
#   bash scripts/install_browser.sh --best-effort  # say so and carry on (make test): the test is then skipped
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
install() {
  command -v apt-get >/dev/null || { echo "no apt-get on this machine" >&2; return 1; }
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
}
if ! install; then
  if [ "${1:-}" = "--best-effort" ]; then
    echo "warning: Debian's chromium could not be installed (needs apt-get and root or sudo);" \
         "the browser test will be skipped" >&2
    exit 0
  fi
  exit 1
fi
/usr/bin/chromium --version
