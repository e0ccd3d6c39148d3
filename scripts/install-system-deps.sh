#!/usr/bin/env bash
# Installs the Debian packages the tests need, only those missing; safe to run again.
#   docker-compose  validates docker-compose.yml (`docker-compose config`, tests/deploy)
#   chromium        the browser the web tests drive (Playwright, /usr/bin/chromium)
#   nginx           checks the reverse-proxy example deploy/nginx/evenkeel.conf (`nginx -t`, tests/deploy)
#   openssl         the throwaway certificate of that check
# As root: apt-get update (only when something is missing) and apt-get install.
# Otherwise: prints the packages to install and exits 1.
set -euo pipefail

PACKAGES=(docker-compose chromium nginx openssl)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "[setup] installing ${missing[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null
