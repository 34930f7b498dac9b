#!/usr/bin/env bash
# Start-to-answer time of perceiver-mlm as a user meets it: the whole process (start, load the
# model folder, fill samples/mlm/sentence.txt, exit), best of RUNS, for each MODEL folder given.
# Usage: bench/start-to-answer.sh [BUILD_DIR] RUNS MODEL...
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${2:-7}
shift 2
for model in "$@"; do
  best=""
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    "$build/apps/perceiver-mlm" -q -m "$model" samples/mlm/sentence.txt >/dev/null
    elapsed=$(( $(date +%s%N) - start ))
    [[ -z $best || $elapsed -lt $best ]] && best=$elapsed
  done
  printf '%s\tbest of %d: %d.%03d s\n' "$model" "$runs" $((best / 1000000000)) $(((best / 1000000) % 1000))
done
