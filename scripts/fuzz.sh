#!/usr/bin/env bash
# Fuzzing of every parser of untrusted bytes (docs/testing.md, "Fuzzing").
#
#   scripts/fuzz.sh [--build DIR] ci [TARGET...]      what CI runs: every committed corpus file, then
#                                                     a fixed set of mutations of each (the same on
#                                                     every run), through the sanitizer tree's
#                                                     fuzz-<target>-mutations drivers (DIR default
#                                                     build-asan, configured and built as .ci/run
#                                                     does when missing)
#   scripts/fuzz.sh [--build DIR] replay [TARGET...]  libFuzzer: each target once over its corpus
#   scripts/fuzz.sh [--build DIR] long [--time SECONDS] [--out DIR] [TARGET...]
#                                                     libFuzzer, open-ended and coverage-guided, by
#                                                     hand: SECONDS per target (default 600); new
#                                                     inputs and crashes go to DIR/<target>/
#                                                     (default ~/perceiver-fuzz), never into the
#                                                     repository
#
# TARGETs: safetensors config image flo flowfile audio pytorch pickle video (default: all). replay
# and long configure and build with clang-14 and -DPERCEIVER_FUZZ=ON into DIR (default build-fuzz). The
# committed corpora (tests/fuzz/corpus/<target>/) are only read. Exits non-zero when any target
# crashes, leaks, times out or gets a sanitizer report (UBSan reports are fatal); the input that
# did it is saved under <build>/fuzz-artifacts/<target>/ (long: DIR/<target>/) and the last lines
# printed repeat each finding's report line and the input itself (gzip + base64, when small), so
# a CI log's tail is enough to reproduce it. libFuzzer's runs are not repeatable (docs/testing.md),
# which is why CI runs `ci`; inputs `long` finds belong in the corpora.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(safetensors config image flo flowfile audio pytorch pickle video)
# -max_len per target: a little above the largest seed, so mutations stay near real file sizes.
declare -A max_len=([safetensors]=4096 [config]=4096 [image]=16384 [flo]=2048 [flowfile]=1024 [audio]=16384 [pytorch]=8192 [pickle]=4096 [video]=4096)
# Mutations per corpus file in `ci` (seed 1): 5–15 s of the sanitizer tree's time per target here.
declare -A ci_mutations=([safetensors]=16000 [config]=6000 [image]=800 [flo]=20000 [flowfile]=20000 [audio]=5000 [pytorch]=8000 [pickle]=16000 [video]=1500)

usage() {
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

build=""
if [[ ${1:-} == --build ]]; then
  [[ $# -ge 2 ]] || usage
  build=$2
  shift 2
fi
mode=${1:-}
[[ $mode == ci || $mode == replay || $mode == long ]] || usage
shift
[[ -n $build ]] || { [[ $mode == ci ]] && build=build-asan || build=build-fuzz; }
seconds=600
out_dir="${HOME:-/tmp}/perceiver-fuzz"
targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --time) [[ $mode == long && $# -ge 2 ]] || usage; seconds=$2; shift 2 ;;
    --out) [[ $mode == long && $# -ge 2 ]] || usage; out_dir=$2; shift 2 ;;
    -*) usage ;;
    *)
      [[ -v "max_len[$1]" ]] || { echo "fuzz.sh: unknown target '$1' (known: ${all_targets[*]})" >&2; exit 2; }
      targets+=("$1")
      shift
      ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
case $out_dir in
  "$root"|"$root"/*) echo "fuzz.sh: --out must be outside the repository" >&2; exit 2 ;;
esac

# ---- build ---------------------------------------------------------------------------------------
build_targets=()
if [[ $mode == ci ]]; then
  # The sanitizer tree of .ci/run (scripts/sanitizer-tree.sh configures it the same way).
  [[ -f $build/CMakeCache.txt ]] || bash scripts/sanitizer-tree.sh configure "$build" >/dev/null
  for t in "${targets[@]}"; do build_targets+=(--target "fuzz-$t-mutations"); done
else
  # -O1 with line tables: the usual fuzzing trade-off (fast to build, readable stack traces).
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -DPERCEIVER_FUZZ=ON -DPERCEIVER_BUILD_TESTS=OFF \
    -DPERCEIVER_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" >/dev/null
  for t in "${targets[@]}"; do build_targets+=(--target "fuzz-$t"); done
fi
cmake --build "$build" -j2 "${build_targets[@]}"

# ---- run -----------------------------------------------------------------------------------------
# Every sanitizer report is fatal; leaks are checked (libFuzzer checks after each input that
# allocated more than it freed).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=0:strict_string_checks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
# Known leaks inside third-party libraries only (each explained in the file).
export LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
export OMP_NUM_THREADS=1

log_dir="$build/fuzz-logs"
mkdir -p "$log_dir"
stamp="$log_dir/.started"
touch "$stamp"

failed=()
findings=()
run() {  # target, then libFuzzer arguments
  local target=$1
  shift
  local binary="$build/tests/fuzz/fuzz-$target"
  [[ $mode == ci ]] && binary+="-mutations"
  local log="$log_dir/$target.log"
  echo "== fuzz-$target $*" >&2
  if ! "$binary" "$@" 2>&1 | tee "$log" >&2; then
    [[ " ${failed[*]} " == *" $target "* ]] || failed+=("$target")
    echo "fuzz.sh: fuzz-$target FAILED; reproduce with: $binary <the crash-/leak-/timeout- file named above>" >&2
    local report
    report=$(grep -m 4 -E '==ERROR|^SUMMARY:|FUZZ FINDING|runtime error:|Test unit written to|^fuzz driver:' "$log" | tr '\n' ' ')
    findings+=("fuzz-$target: ${report:-no report line; see $log}")
  fi
}

# The inputs saved by failing runs, printed last so that a log's tail holds them.
print_findings() {
  local finding file packed
  for finding in "${findings[@]}"; do echo "fuzz.sh: $finding" >&2; done
  while IFS= read -r file; do
    packed=$(gzip -9 -n -c "$file" | base64 -w0)
    if ((${#packed} <= 8000)); then
      echo "fuzz.sh: input $file ($(stat -c %s "$file") bytes; base64 -d | gunzip): $packed" >&2
    else
      echo "fuzz.sh: input $file ($(stat -c %s "$file") bytes, too large to print)" >&2
    fi
  done < <(find "$build/fuzz-artifacts" "$out_dir" -type f -newer "$stamp" \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null | LC_ALL=C sort)
}

common_flags() {  # target
  local flags=(-max_len="${max_len[$1]}" -timeout=25 -rss_limit_mb=2048 -detect_leaks=1)
  [[ -f tests/fuzz/dict/$1.dict ]] && flags+=(-dict="tests/fuzz/dict/$1.dict")
  echo "${flags[@]}"
}

for target in "${targets[@]}"; do
  corpus="tests/fuzz/corpus/$target"
  artifacts="$build/fuzz-artifacts/$target"
  mkdir -p "$artifacts"
  mapfile -t files < <(find "$corpus" -type f | LC_ALL=C sort)
  dict=()
  [[ -f tests/fuzz/dict/$target.dict ]] && dict=(--dict "tests/fuzz/dict/$target.dict")
  case $mode in
    ci)
      # Every committed input, then ${ci_mutations[target]} fixed mutations of each (seed 1).
      run "$target" --mutations "${ci_mutations[$target]}" --seed 1 --max-len "${max_len[$target]}" \
        "${dict[@]}" --timeout 25 --artifacts "$artifacts" "${files[@]}"
      ;;
    replay)
      # Every committed input once (files as arguments: no mutation, no corpus writes).
      run "$target" -artifact_prefix="$artifacts/" -timeout=25 -rss_limit_mb=2048 "${files[@]}"
      ;;
    long)
      mkdir -p "$out_dir/$target"
      # shellcheck disable=SC2046
      run "$target" $(common_flags "$target") -max_total_time="$seconds" \
        -artifact_prefix="$out_dir/$target/" -print_final_stats=1 "$out_dir/$target" "$corpus"
      ;;
  esac
done

if ((${#failed[@]})); then
  print_findings
  echo "fuzz.sh: $mode FAILED for: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: $mode passed for: ${targets[*]}" >&2
