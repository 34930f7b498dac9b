#!/usr/bin/env bash
# Runs every perceiver-bench case, each in its own process (so peak RSS is per case), and
# prints one JSON line per case. Usage: bench/run.sh [BUILD_DIR] [extra perceiver-bench flags]
set -euo pipefail
build=${1:-build}
shift || true
for name in $("$build/bench/perceiver-bench" --list | cut -f1); do
  "$build/bench/perceiver-bench" --case "$name" "$@"
done
