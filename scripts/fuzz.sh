#!/usr/bin/env bash
# Fuzzes every Fuzz* target of the repository for a while each (default 30s):
#   bash scripts/fuzz.sh [DURATION]
# The seed corpora (f.Add and testdata/fuzz) already run as ordinary tests in
# `go test ./...`; this script explores beyond them. A failing input is saved
# under the package's testdata/fuzz/ by the Go toolchain: commit it with the fix.
set -u
cd "$(dirname "$0")/.."
dur="${1:-30s}"
status=0
for dir in $(grep -rlE '^func Fuzz' --include='*_test.go' . | xargs -n1 dirname | sort -u); do
  for f in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)' "$dir"/*_test.go | awk '{print $2}'); do
    if go test "$dir" -run '^$' -fuzz "^$f\$" -fuzztime "$dur" >/tmp/preconv-fuzz-$f.log 2>&1; then
      echo "ok   $dir $f"
    else
      echo "FAIL $dir $f (log: /tmp/preconv-fuzz-$f.log)"; tail -15 /tmp/preconv-fuzz-$f.log; status=1
    fi
  done
done
exit $status
