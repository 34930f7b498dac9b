#!/usr/bin/env bash
# libFuzzer targets of every parser of untrusted bytes (docs/testing.md, "Fuzzing").
#
#   scripts/fuzz.sh [--build DIR] replay [TARGET...]   each target once over every file of its corpus
#   scripts/fuzz.sh [--build DIR] short  [TARGET...]   + a fixed-seed run of a few thousand inputs each
#                                                      (what CI runs: replay, then short)
#   scripts/fuzz.sh [--build DIR] long [--time SECONDS] [--out DIR] [TARGET...]
#                                                      open-ended fuzzing outside CI: SECONDS per target
#                                                      (default 600); new inputs and crashes go to
#                                                      DIR/<target>/ (default ~/perceiver-fuzz), never
#                                                      into the repository
#
# TARGETs: safetensors config image flo audio pytorch pickle (default: all). Configures and builds
# with clang-14 and -DPERCEIVER_FUZZ=ON into DIR (default build-fuzz), then runs. The committed
# corpora (tests/fuzz/corpus/<target>/) are only read. Exits non-zero when any target crashes,
# leaks, times out or gets a sanitizer report (UBSan reports are fatal); the input that did it is
# saved as <build>/fuzz-artifacts/<target>/crash-… (long: DIR/<target>/crash-…) and the command to
# reproduce it is printed; the last lines printed repeat each finding's report line and the
# input itself (gzip + base64, when small), so a CI log's tail is enough to reproduce it. The
# fixed seed does not make two short runs identical (docs/testing.md), so CI can meet inputs that
# a local run did not.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

all_targets=(safetensors config image flo audio pytorch pickle)
# -max_len per target: a little above the largest seed, so mutations stay near real file sizes.
declare -A max_len=([safetensors]=4096 [config]=4096 [image]=16384 [flo]=2048 [audio]=16384 [pytorch]=8192 [pickle]=4096)
# Inputs per target in `short` (fixed seed 1, so every run does the same work).
declare -A short_runs=([safetensors]=100000 [config]=100000 [image]=6000 [flo]=100000 [audio]=40000 [pytorch]=100000 [pickle]=100000)

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

build=build-fuzz
if [[ ${1:-} == --build ]]; then
  [[ $# -ge 2 ]] || usage
  build=$2
  shift 2
fi
mode=${1:-}
[[ $mode == replay || $mode == short || $mode == long ]] || usage
shift
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
# -O1 with line tables: the usual fuzzing trade-off (fast to build, readable stack traces).
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -DPERCEIVER_FUZZ=ON -DPERCEIVER_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz-$t"); done
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
  local log="$log_dir/$target.log"
  echo "== fuzz-$target $*" >&2
  if ! "$binary" "$@" 2>&1 | tee "$log" >&2; then
    [[ " ${failed[*]} " == *" $target "* ]] || failed+=("$target")
    echo "fuzz.sh: fuzz-$target FAILED; reproduce with: $binary <the crash-/leak-/timeout- file named above>" >&2
    local report
    report=$(grep -m 3 -E '==ERROR|^SUMMARY:|FUZZ FINDING|runtime error:|Test unit written to' "$log" | tr '\n' ' ')
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
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null | sort)
}

common_flags() {  # target
  local flags=(-max_len="${max_len[$1]}" -timeout=25 -rss_limit_mb=2048 -detect_leaks=1)
  [[ -f tests/fuzz/dict/$1.dict ]] && flags+=(-dict="tests/fuzz/dict/$1.dict")
  echo "${flags[@]}"
}

scratch=""
trap '[[ -n $scratch ]] && rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  corpus="tests/fuzz/corpus/$target"
  case $mode in
    replay|short)
      artifacts="$build/fuzz-artifacts/$target"
      mkdir -p "$artifacts"
      # Replay: every committed input once (files as arguments: no mutation, no corpus writes).
      mapfile -t files < <(find "$corpus" -type f | sort)
      run "$target" -artifact_prefix="$artifacts/" -timeout=25 -rss_limit_mb=2048 "${files[@]}"
      ;;
  esac
  case $mode in
    short)
      # Fixed seed and run count; new inputs go to a scratch folder (listed first, so libFuzzer
      # writes there), the committed corpus is only read.
      scratch=$(mktemp -d)
      # shellcheck disable=SC2046
      run "$target" $(common_flags "$target") -seed=1 -runs="${short_runs[$target]}" \
        -artifact_prefix="$artifacts/" -print_final_stats=1 "$scratch" "$corpus"
      rm -rf "$scratch"
      scratch=""
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
