#!/usr/bin/env bash
# Short fuzz run of every decoder of untrusted input (issue #8, promise 7):
# each target for FUZZTIME (default 10s), one after the other, on one
# worker (-parallel 1) so CI's two cores are not fought over. A crasher
# fails the run and is left in the package's testdata/fuzz/<Target>/ (git
# status shows it): commit it with the fix. Prints each target's time and
# the total, for CI's 15-minute budget.
#
#   FUZZTIME=60s scripts/fuzz-short.sh        # the longer, manual run
#   scripts/fuzz-short.sh ./ivr FuzzWaitingKeys  # one target
set -euo pipefail

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
# Minimising each new interesting input may take up to 60 s by default,
# during which nothing is fuzzed (a 10 s run of the config loader spent all
# its time there, at "0 execs/sec"); keep it short. Crashers are still
# written, less minimised.
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-2s}

# package target — the ARI event decoder, the config loader, the DTMF
# collector, caller-ID normalisation, the CDR import line parser, the
# directory CSV parser, and the recording names derived from channel ids.
targets=(
  "./ari FuzzDecodeEvent"
  "./config FuzzParse"
  "./ivr FuzzWaitingKeys"
  "./ivr FuzzMenuKeys"
  "./ivr FuzzVoicemailName"
  "./callerid FuzzNormalize"
  "./cdr FuzzNeutralLine"
  "./directory FuzzParse"
)
if [ $# -eq 2 ]; then
  targets=("$1 $2")
elif [ $# -ne 0 ]; then
  echo "usage: $0 [package FuzzTarget]" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
start=$SECONDS
failed=()
flaked=()
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  t0=$SECONDS
  corpus="$pkg/testdata/fuzz/$name"
  before=$(ls "$corpus" 2>/dev/null | sort || true)
  echo "== fuzz $pkg $name ($FUZZTIME)"
  rc=0
  out=$("$GO" test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" -fuzzminimizetime="$FUZZMINIMIZETIME" -parallel 1 "$pkg" 2>&1) || rc=$?
  printf '%s\n' "$out" | grep -v 'gathering baseline' | tail -n 8
  after=$(ls "$corpus" 2>/dev/null | sort || true)
  if [ $rc -ne 0 ]; then
    if [ "$before" != "$after" ] || printf '%s' "$out" | grep -q 'Failing input written'; then
      failed+=("$pkg $name: crasher in $corpus/$(comm -13 <(echo "$before") <(echo "$after") | head -n 1)")
    elif printf '%s' "$out" | grep -q '^    context deadline exceeded$'; then
      # Go's fuzz coordinator (1.26) can report its own -fuzztime deadline
      # as a failure when a starved worker acks late (golang/go#75804,
      # fixed in 1.27): no input failed, nothing was written.
      flaked+=("$pkg $name")
    else
      failed+=("$pkg $name: go test failed (exit $rc)")
    fi
  fi
  echo "   $name: $((SECONDS - t0))s"
done
echo "fuzz-short: ${#targets[@]} targets in $((SECONDS - start))s"
if [ ${#flaked[@]} -gt 0 ]; then
  printf 'fuzz-short: warning: %s ended with Go'"'"'s fuzztime deadline race (golang/go#75804), no failing input\n' "${flaked[@]}" >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz-short: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
