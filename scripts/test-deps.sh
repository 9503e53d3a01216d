#!/usr/bin/env bash
# Installs what helpline's tests need on a fresh Debian machine, or says
# exactly what to install. Idempotent: does nothing when all is there.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# PostgreSQL's server programs live in /usr/lib/postgresql/<major>/bin, off
# PATH; internal/testenv looks there (then on PATH) for initdb and postgres.
have_postgres() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && return 0
  done
  command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1
}
have_postgres || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "helpline tests need these Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "helpline tests need: ${need[*]} (no apt-get here: install them with your package manager)" >&2
  exit 1
fi
echo "installing test dependencies: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts a system redis on :6379 and, where it can, a PostgreSQL
# cluster on :5432; our tests start their own servers on free loopback ports
# (PostgreSQL as the "postgres" user the package creates, with no Unix
# socket), so they neither need nor disturb those.
