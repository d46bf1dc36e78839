#!/usr/bin/env bash
# Runs every test: the .NET suites (OT, store contract on SQLite and PostgreSQL, grains, protocol, crash recovery,
# cluster, infra) and the browser suites (client library unit tests, end-to-end in headless Chromium).
# Needs the .NET 10 SDK, Node.js 20.19+, and the Debian packages .ci/install.sh installs (postgresql, redis-server, chromium).
set -uo pipefail
cd "$(dirname "$0")"

rm -f TestResults/figures.txt
dotnet test Collab.sln
dotnet_status=$?
if [ -f TestResults/figures.txt ]; then
  echo "Measured by the tests (TestResults/figures.txt):"
  sed 's/^/  /' TestResults/figures.txt
fi

# The browser tests run after the .NET ones: they rebuild the editor bundle the .NET tests serve.
(cd web && npm ci --no-audit --no-fund && npm test)
web_status=$?

[ "$dotnet_status" -eq 0 ] && [ "$web_status" -eq 0 ]
