#!/usr/bin/env bash
# Makes the PostgreSQL server binaries available for the PostgreSQL store tests (tests/Collab.Storage.Tests), which
# start their own throwaway cluster from /usr/lib/postgresql/*/bin on a free loopback port. Installs the Debian package
# 'postgresql' when no initdb is there; does nothing otherwise. Needs root (CI runs as root) or sudo.
set -euo pipefail

if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  echo "postgres: $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1) is installed"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

echo "postgres: installing the Debian package postgresql"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q postgresql

if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  echo "postgres: the package installed, but no /usr/lib/postgresql/*/bin/initdb was found" >&2
  exit 1
fi
echo "postgres: $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1) is installed"
