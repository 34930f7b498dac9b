#!/usr/bin/env bash
# A busy machine: perceiver-bench --case CASE at the default two threads, idle and with one core
# kept busy by another process (a shell loop, as a second job of GNU parallel or a build would),
# under libgomp's default wait policy (spin 300,000 times, then sleep), OMP_WAIT_POLICY=passive
# (sleep at once) and OMP_WAIT_POLICY=active (spin). One JSON line per run: perceiver-bench's,
# with "load" and "wait_policy" in front.
# Usage: bench/contention.sh [BUILD_DIR] [CASE] [RUNS]   (defaults: build mlm 5)
set -euo pipefail
build=${1:-build}
case_name=${2:-mlm}
runs=${3:-5}
busy_pid=""
stop_busy() {
  if [[ -n $busy_pid ]]; then
    kill "$busy_pid" 2>/dev/null || true
    wait "$busy_pid" 2>/dev/null || true
    busy_pid=""
  fi
}
trap stop_busy EXIT

bench() {
  local load=$1 policy=$2 line
  if [[ $policy == default ]]; then
    line=$(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT "$build/bench/perceiver-bench" --case "$case_name" --runs "$runs" --precision f32)
  else
    line=$(env -u GOMP_SPINCOUNT OMP_WAIT_POLICY="$policy" "$build/bench/perceiver-bench" --case "$case_name" --runs "$runs" --precision f32)
  fi
  printf '{"load":"%s","wait_policy":"%s",%s\n' "$load" "$policy" "${line#\{}"
}

for load in idle busy; do
  if [[ $load == busy ]]; then
    (while :; do :; done) &
    busy_pid=$!
  fi
  bench "$load" default
  bench "$load" passive
  bench "$load" active
  stop_busy
done
