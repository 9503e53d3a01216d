#!/usr/bin/env bash
# Validates compose.yaml with the compose client (no engine needed): both
# profiles, with placeholder secret files when docker/secrets/ is absent.
# Run by `make compose-check`.
set -euo pipefail
cd "$(dirname "$0")"
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "check.sh: no compose client: install the docker compose plugin (or Debian's docker-compose)" >&2
  exit 1
fi
made=""
if [ ! -d secrets ]; then
  made=secrets
  mkdir -p secrets/sip
  for f in ari_password hmac_key trunk_password pg_password; do echo placeholder > "secrets/$f"; done
fi
trap '[ -n "$made" ] && rm -rf "$made"' EXIT
"${compose[@]}" -f compose.yaml config --quiet
"${compose[@]}" -f compose.yaml --profile postgres config --quiet
echo "compose.yaml: ok (${compose[*]})"
