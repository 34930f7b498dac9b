#!/usr/bin/env bash
# ThreadSanitizer on the library's thread rules (docs/library.md): builds the library and the
# tests with -fsanitize=thread in DIR (default build-tsan; -O1 -g1, no benchmarks) and runs the
# test of two models in two threads at once. Each model runs with one OpenMP thread, so the only
# threads are the test's own two; oneDNN and libgomp are not instrumented, so what TSan checks is
# this project's code: its per-thread scratch buffers, streams and settings, and the models' own
# memory. Any report fails the run (halt_on_error).
#   bash scripts/tsan.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-tsan}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  -DPERCEIVER_TSAN=ON -DPERCEIVER_BUILD_BENCH=OFF >/dev/null
cmake --build "$dir" -j"$(nproc)" --target perceiver-tests
OMP_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  "$dir/tests/perceiver-tests" -tc="library API: two models*"
