#!/usr/bin/env bash
# Installs the Debian packages the tests need: PostgreSQL (store and cluster tests), redis-server (cluster membership),
# nginx (reverse-proxy tests) and Chromium (browser tests). Only what is missing is installed; needs root (CI runs as
# root) or sudo.
set -euo pipefail

missing=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -x /usr/bin/chromium ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install: postgresql, redis-server, nginx and chromium are present"
  exit 0
fi

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install: apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
# Debian starts the packaged services; the tests start their own on free ports, so stop these.
for service in postgresql redis-server nginx; do
  if command -v systemctl >/dev/null 2>&1; then $sudo systemctl stop "$service" >/dev/null 2>&1 || true; fi
  if command -v service >/dev/null 2>&1; then $sudo service "$service" stop >/dev/null 2>&1 || true; fi
done
