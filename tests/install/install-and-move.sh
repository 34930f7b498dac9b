#!/usr/bin/env bash
# `cmake --install` as a user meets it (docs/install.md): install BUILD into a temporary prefix,
# move the prefix, and — in a private mount namespace where the source tree and the build tree
# are hidden under empty folders, when this machine allows one (root) — check that every tool
# runs from the moved prefix (--version, --help), that perceiver-mlm with no -m uses the
# installed model and answers as the build tree's tool does, that the man pages and bash
# completion are in place and work, that no installed file names the source or build tree, and
# that the example consumer (examples/) builds against the moved prefix with pkg-config and with
# find_package and gives the tools' answers.
# Usage: install-and-move.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$(cd "$1" && pwd -P)
build_dir=$(cd "$2" && pwd -P)
if grep -q '^PERCEIVER_SANITIZE:BOOL=ON' "$build_dir/CMakeCache.txt" 2>/dev/null; then
  echo "install-and-move: skipped in a sanitizer build (an uninstrumented consumer cannot load its library)"; exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "install-and-move: $*" >&2; exit 1; }

cmake --install "$build_dir" --prefix "$work/first" >/dev/null
mv "$work/first" "$work/prefix"
prefix=$work/prefix
tools=(perceiver-mlm perceiver-classify perceiver-flow perceiver-autoencode perceiver-run perceiver-convert perceiver-train)

# Nothing installed points back at the trees it came from.
if grep -rlF -e "$source_dir" -e "$build_dir" "$prefix"; then fail "the installed files above name the source or build tree"; fi
for tool in "${tools[@]}"; do
  [[ -x $prefix/bin/$tool ]] || fail "$tool not installed"
  [[ -f $prefix/share/man/man1/$tool.1 ]] || fail "no man page for $tool"
  [[ -f $prefix/share/bash-completion/completions/$tool ]] || fail "no bash completion for $tool"
  runpath=$(readelf -d "$prefix/bin/$tool" | sed -n 's/.*RUNPATH.*\[\(.*\)\]/\1/p')
  [[ $runpath == '$ORIGIN/../lib'* ]] || fail "$tool: RUNPATH is '$runpath'"
done
[[ -f $prefix/include/perceiver/perceiver.h && -f $prefix/share/perceiver/models/byte-mlm/config.json ]] ||
  fail "the header or the shipped model is missing"

# What the build tree's tools answer, to compare with (computed before the trees are hidden).
text='He is one of[MASK:4] best players in the world.'
# --lines: the line without its newline, as the example passes it (a trailing newline is part of
# a file's document and changes what a small model predicts).
expected_fill=$(printf '%s\n' "$text" | env -u PERCEIVER_MLM_MODEL "$build_dir/apps/perceiver-mlm" -q -t 1 --lines)
image=$work/sneaker.png
cp "$source_dir/samples/fashion-mnist/7-sneaker-test0009.png" "$image"
expected_labels=$("$build_dir/apps/perceiver-classify" -q -t 1 -m "$source_dir/models/fashion-mnist" -f tsv "$image" | tail -n +2 | cut -f4,5)
cp "$source_dir/examples/perceiver-example.cpp" "$source_dir/examples/CMakeLists.txt" "$work/"
mkdir -p "$work/example" && mv "$work/perceiver-example.cpp" "$work/CMakeLists.txt" "$work/example/"

checks=$(cat <<'CHECKS'
set -euo pipefail
fail() { echo "install-and-move (moved prefix): $*" >&2; exit 1; }
export PATH=$prefix/bin:/usr/bin:/bin
unset PERCEIVER_MODELS_DIR PERCEIVER_MLM_MODEL
cd "$work"
for tool in "${tools[@]}"; do
  "$tool" --version | grep -q "^$tool: perceiver [0-9.]* (git [^)]*), oneDNN [0-9.]*, CPU ISA [a-z0-9_]*, bf16 " ||
    fail "$tool --version: $("$tool" --version 2>&1)"
  "$tool" --help >/dev/null || fail "$tool --help failed"
done
# The installed model, found beside the tool, answers as the build tree's.
answer=$(printf '%s\n' "$text" | perceiver-mlm -t 1 --lines 2>"$work/mlm.err" | head -1)
[[ $answer == "$expected_fill" ]] || fail "perceiver-mlm answered '$answer', the build tree '$expected_fill'"
grep -qF "$prefix/share/perceiver/models/byte-mlm" "$work/mlm.err" || fail "perceiver-mlm: $(cat "$work/mlm.err")"
labels=$(perceiver-classify -q -t 1 -m "$prefix/share/perceiver/models/fashion-mnist" -f tsv "$image" | tail -n +2 | cut -f4,5)
[[ $labels == "$expected_labels" ]] || fail "the installed perceiver-classify: $labels"
perceiver-flow --color-key "$work/key.png" && [[ -s $work/key.png ]] || fail "perceiver-flow --color-key wrote nothing"
# Man pages render and hold the tool's options.
man -l "$prefix/share/man/man1/perceiver-mlm.1" 2>/dev/null | grep -q -- "--top-k" || fail "man perceiver-mlm lacks --top-k"
MANPATH=$prefix/share/man man -w perceiver-flow >/dev/null || fail "man -w perceiver-flow found nothing"
# Bash completion: options from the tool's own --help, and perceiver-train's subcommands.
source "$prefix/share/bash-completion/completions/perceiver-mlm"
COMP_WORDS=(perceiver-mlm --to); COMP_CWORD=1; _perceiver_tool
[[ " ${COMPREPLY[*]} " == *" --top-k "* ]] || fail "completion of 'perceiver-mlm --to': ${COMPREPLY[*]}"
COMP_WORDS=(perceiver-train wi); COMP_CWORD=1; _perceiver_tool
[[ " ${COMPREPLY[*]} " == *" widen "* ]] || fail "completion of 'perceiver-train wi': ${COMPREPLY[*]}"
COMP_WORDS=(perceiver-train mlm --war); COMP_CWORD=2; _perceiver_tool
[[ " ${COMPREPLY[*]} " == *" --warmup "* ]] || fail "completion of 'perceiver-train mlm --war': ${COMPREPLY[*]}"
# The consumer, built both ways against the moved prefix, answers as the tools do.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
g++ -std=c++17 -O1 example/perceiver-example.cpp $(pkg-config --cflags --libs perceiver) -Wl,-rpath,"$prefix/lib" \
  -o example-pkgconfig || fail "the example does not build with pkg-config"
cmake -S example -B example-build -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null ||
  fail "the example does not configure with find_package(perceiver)"
cmake --build example-build >/dev/null || fail "the example does not build with find_package(perceiver)"
for program in ./example-pkgconfig ./example-build/perceiver-example; do
  got=$("$program" "$prefix/share/perceiver/models/byte-mlm" "$text")
  [[ $got == "$expected_fill" ]] || fail "$program filled '$got', perceiver-mlm '$expected_fill'"
  labels=$("$program" "$prefix/share/perceiver/models/fashion-mnist" "$image")
  [[ $labels == "$expected_labels" ]] || fail "$program: labels
$labels
perceiver-classify:
$expected_labels"
done
echo "install-and-move: every check passed from the moved prefix $prefix"
CHECKS
)
export prefix work text expected_fill expected_labels image
export tools_list="${tools[*]}"
run_checks() { bash -c "tools=(\$tools_list); $checks"; }
if [[ $(id -u) -eq 0 ]] && unshare -m true 2>/dev/null; then
  # The source and build trees hidden: whatever still works comes from the prefix alone.
  hide="mount -t tmpfs none '$source_dir'"
  [[ $build_dir == "$source_dir"/* ]] || hide+=" && mount -t tmpfs none '$build_dir'"  # else hidden with the source
  unshare -m bash -c "$hide && tools=(\$tools_list) && $checks" || exit 1
  echo "install-and-move: (with $source_dir and $build_dir hidden)"
else
  run_checks
fi
