#!/usr/bin/env bash
# Thread scaling: each case with -t 1 and -t 2 (separate processes: the thread count is fixed
# before any primitive exists), one JSON line each; the ratio of the two `seconds` is the speed-up.
# Usage: bench/threads.sh [BUILD_DIR] [CASE...]   (default cases: mlm vision_learned flow_tile)
set -euo pipefail
build=${1:-build}
shift || true
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(mlm vision_learned flow_tile)
for name in "${cases[@]}"; do
  for threads in 1 2; do
    "$build/bench/perceiver-bench" --case "$name" --runs 3 -t "$threads" --precision f32
  done
done
