#!/usr/bin/env bash
# The AddressSanitizer + UndefinedBehaviorSanitizer build that CI tests with (docs/testing.md,
# "Sanitizers"), configured in one place for .ci/run and scripts/fuzz.sh:
#   bash scripts/sanitizer-tree.sh configure [DIR]   configure DIR (default build-asan)
# g++ with -O1 and line tables only (-g1): a third of -O2 -g's build time, readable stack traces;
# no benchmarks; the tests and the deterministic fuzz drivers (tests/fuzz/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ ${1:-} == configure ]] || { echo "usage: bash scripts/sanitizer-tree.sh configure [DIR]" >&2; exit 2; }
dir=${2:-build-asan}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  -DPERCEIVER_SANITIZE=ON -DPERCEIVER_BUILD_BENCH=OFF
