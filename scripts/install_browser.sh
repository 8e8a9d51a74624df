#!/usr/bin/env bash
# Debian's Chromium for the real-browser test (Playwright drives it; its own browser
# download does not work offline). Idempotent; needs apt-get and root or sudo.
#   bash scripts/install_browser.sh                # fail when it cannot be installed (CI)
#   bash scripts/install_browser.sh --best-effort  # say so and carry on (make test): the test is then skipped
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
here="$(dirname "$0")"
if [ "${1:-}" = "--best-effort" ]; then
  bash "$here/apt_install.sh" --best-effort "the browser test will be skipped" chromium chromium-driver
else
  bash "$here/apt_install.sh" chromium chromium-driver
fi
if [ -x /usr/bin/chromium ]; then /usr/bin/chromium --version; fi
