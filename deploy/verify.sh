#!/usr/bin/env bash
# Checks systemd/helpline.service with systemd-analyze (Debian package
# systemd; works without systemd running): syntax and directives, then the
# offline security exposure score. The unit's ExecStart binary must exist
# for verify, so it is pointed at a helpline built from this tree.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/helpline" ./cmd/helpline
sed "s|/usr/local/bin/helpline|$tmp/helpline|" deploy/systemd/helpline.service > "$tmp/helpline.service"
systemd-analyze verify "$tmp/helpline.service"
systemd-analyze security --offline=true --threshold=20 "$tmp/helpline.service" | tail -1
echo "deploy/systemd/helpline.service: ok"
