#!/usr/bin/env bash
# Training-step speed of an earlier commit against this tree, alternating in one session so both
# see the same machine state: builds perceiver-bench-train of BEFORE in a git worktree (once),
# then runs both binaries ROUNDS times at 2 threads and at 1, printing one JSON line per run with
# "build": "before" or "after". Usage: bench/training_before_after.sh BEFORE [BUILD_DIR] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
before=${1:?usage: bench/training_before_after.sh BEFORE [BUILD_DIR] [ROUNDS]}
build=${2:-build}
rounds=${3:-2}
tree=${TMPDIR:-/tmp}/perceiver-before-$(git rev-parse --short "$before")
if [[ ! -x $tree/build/bench/perceiver-bench-train ]]; then
  [[ -d $tree ]] || git worktree add -q --detach "$tree" "$before"
  cmake -S "$tree" -B "$tree/build" -DCMAKE_BUILD_TYPE=Release > /dev/null
  cmake --build "$tree/build" -j2 --target perceiver-bench-train > /dev/null
fi
for ((round = 0; round < rounds; ++round)); do
  for threads in 2 1; do
    for side in before after; do
      binary=$build/bench/perceiver-bench-train
      [[ $side == before ]] && binary=$tree/build/bench/perceiver-bench-train
      "$binary" --models models -t "$threads" --steps 10 | sed "s/^{/{\"build\":\"$side\",/"
    done
  done
done
