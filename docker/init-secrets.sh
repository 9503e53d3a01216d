#!/usr/bin/env bash
# Creates docker/secrets/ (git-ignored) with random secrets, once:
#   ./init-secrets.sh op1001 op1002 …   (the operator ids of config/helpline.yaml)
# Existing files are kept. Put the provider's password in
# secrets/trunk_password yourself. The directory is 0700 (only root on the
# host), the files 0644 so that the containers' non-root users (helpline
# 65532, Asterisk 1000) can read their bind-mounted copies.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets/sip
chmod 0700 secrets
chmod 0755 secrets/sip
new() { # file, bytes
  if [ ! -s "$1" ]; then openssl rand -hex "$2" > "$1"; echo "created $1"; fi
  chmod 0644 "$1"
}
new secrets/ari_password 24
new secrets/hmac_key 32
new secrets/pg_password 24
[ -e secrets/trunk_password ] || { : > secrets/trunk_password; echo "created secrets/trunk_password (EMPTY: put the provider's password in it)"; }
chmod 0644 secrets/trunk_password
for op in "$@"; do
  case "$op" in *[!A-Za-z0-9_.-]*|'') echo "bad operator id: $op" >&2; exit 2;; esac
  new "secrets/sip/$op" 18
done
