#!/usr/bin/env bash
# Make sure redis-server and redis-sentinel are on PATH for the integration tests.
# As root (CI, fresh machines) they are installed with apt; otherwise we say how.
set -euo pipefail

missing=()
for tool in redis-server redis-sentinel redis-cli; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server redis-sentinel redis-tools >/dev/null
  # The package may start a system service on 6379; the tests start their own servers.
  if command -v service >/dev/null 2>&1; then service redis-server stop >/dev/null 2>&1 || true; fi
  exit 0
fi

echo "missing: ${missing[*]}. Install Redis (Debian/Ubuntu: sudo apt-get install redis-server" \
     "redis-sentinel redis-tools; macOS: brew install redis). Integration tests are skipped" \
     "without it, and fail under CI=true." >&2
