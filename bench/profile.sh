#!/usr/bin/env bash
# Per-op profile of one perceiver-bench case: oneDNN's own timing of every primitive executed
# (ONEDNN_VERBOSE=1), summed by kind, implementation and shape over the forward passes (the
# warm-up and one timed run; the 2048³ peak matmul and the load-time weight packing left out),
# and the rest of the forward time — our own C++ (layer norm, copies, embedding) — beside it.
# Usage: bench/profile.sh [BUILD_DIR] CASE [PRECISION [perceiver-bench flags]]   e.g. bench/profile.sh build mlm bf16 -t 1
set -euo pipefail
build=${1:-build}
name=${2:?case name}
precision=${3:-f32}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
ONEDNN_VERBOSE=1 "$build/bench/perceiver-bench" --case "$name" --runs 1 --precision "$precision" "${@:4}" > "$log"
result=$(grep '^{' "$log")
seconds=$(echo "$result" | sed 's/.*"seconds":\([0-9.e-]*\).*/\1/')
echo "$result"
# exec lines: onednn_verbose,exec,cpu,KIND,IMPL,PROP,MEMORY...,ATTR,AUX,SHAPE,MS
grep '^onednn_verbose,exec,cpu' "$log" |
  grep -v "2048x2048:2048x2048:2048x2048\|,2048x2048,\|src_f32::blocked:ba:" |
  awk -F, -v forward="$seconds" '
    { key = $4 " " $5 " " $(NF-1); t[key] += $NF; n[key]++; total += $NF }
    END {
      per_forward = total / 2 / 1000;  # warm-up + one timed run
      printf "oneDNN primitives: %.3f s of the %.3f s forward (%.0f%%); the rest (our C++): %.3f s\n",
             per_forward, forward, 100 * per_forward / forward, forward - per_forward;
      sorter = "sort -rn | head -n 25";
      for (k in t) printf "%9.1f ms %6.1f%% %5d  %s\n", t[k] / 2, 100 * t[k] / total, n[k] / 2, k | sorter;
      close(sorter);
    }'
