#!/bin/bash
# Runs the embedding example and checks that it got to the end.
set -euo pipefail
out="$("$1" 2>&1)" || { echo "$out"; echo "exit status $?"; exit 1; }
echo "$out"
grep -q '^virtio_blk_driver: OK' <<<"$out"
grep -q 'DEVICE_NEEDS_RESET\|ask for a reset' <<<"$out"
