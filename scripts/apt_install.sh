#!/usr/bin/env bash
# Install Debian packages that are not installed yet (apt-get, as root or with sudo).
#   bash scripts/apt_install.sh PACKAGE...                      # fail when they cannot be installed (CI)
#   bash scripts/apt_install.sh --best-effort "WHAT" PACKAGE...  # say that WHAT is skipped and carry on (make test)
set -euo pipefail
best_effort=""
if [ "${1:-}" = "--best-effort" ]; then best_effort="$2"; shift 2; fi
missing=()
for package in "$@"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
sudo=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
install() {
  command -v apt-get >/dev/null || { echo "no apt-get on this machine" >&2; return 1; }
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
if ! install; then
  if [ -n "$best_effort" ]; then
    echo "warning: ${missing[*]} could not be installed (needs apt-get and root or sudo); $best_effort" >&2
    exit 0
  fi
  exit 1
fi
echo "installed: ${missing[*]}"
