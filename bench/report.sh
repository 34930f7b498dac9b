#!/usr/bin/env bash
# Every measurement docs/benchmarks.md quotes, in one go, one JSON line each (machine idle!):
# the cases in f32 and bf16 (each case in its own process, both precisions in that process),
# the scaling sweeps, thread scaling and perceiver-mlm's start-up. About 15 minutes here.
# Usage: bench/report.sh [BUILD_DIR] > bench-results.jsonl
set -euo pipefail
build=${1:-build}
bench="$build/bench/perceiver-bench"
for name in mlm vision_learned vision_conv; do "$bench" --case "$name" --precision f32,bf16 --runs 3; done
for name in vision_learned_b8 vision_conv_b8 flow_tile multimodal_clip; do
  "$bench" --case "$name" --precision f32,bf16 --runs 1
done
"$bench" --sweep mlm --precision f32
"$bench" --sweep multimodal --precision f32
"$bench" --sweep flow --precision bf16  # bf16 halves its ~3 minutes; scaling does not depend on it
bash "$(dirname "$0")/threads.sh" "$build" mlm vision_learned
bash "$(dirname "$0")/startup.sh" "$build"
