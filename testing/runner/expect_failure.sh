#!/bin/bash
# Tests the QEMU runner itself: runs it and passes only if it fails, with
# output matching a regex, within a time bound, and with the last serial
# lines in its report.
#
#   expect_failure.sh <regex> <max seconds> <runner> [runner args] -- <qemu ...>
set -u
regex="$1"
max_seconds="$2"
shift 2

log="${TEST_TMPDIR:-/tmp}/runner_output.txt"
start=$(date +%s)
"$@" >"$log" 2>&1
rc=$?
elapsed=$(($(date +%s) - start))
cat "$log"
echo "---- expect_failure: runner exit code $rc after ${elapsed}s ----"

if [[ $rc -eq 0 ]]; then
  echo "FAIL: the runner passed an image that must fail"
  exit 1
fi
if ! grep -Eq "$regex" "$log"; then
  echo "FAIL: the runner's output does not match /$regex/"
  exit 1
fi
if ! grep -q -- "---- last [0-9]* serial lines ----" "$log"; then
  echo "FAIL: the runner did not repeat the last serial lines"
  exit 1
fi
if ((elapsed > max_seconds)); then
  echo "FAIL: the runner took ${elapsed}s, more than ${max_seconds}s"
  exit 1
fi
echo "PASS: the runner failed as expected"
