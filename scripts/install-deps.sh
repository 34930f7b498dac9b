#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need. Idempotent: installs only what
# is missing, so a second run does nothing (and needs no network).
#   bash scripts/install-deps.sh          the build and the test suite
#   bash scripts/install-deps.sh --fuzz   the same plus clang and libFuzzer for open-ended fuzzing
#                                         (scripts/fuzz.sh long|replay; CI's fuzzing needs neither)
set -euo pipefail

packages=(
  cmake g++ make pkg-config   # toolchain (OpenMP comes with g++)
  libdnnl-dev                 # oneDNN 2.6: matmul, softmax
  ocl-icd-opencl-dev          # OpenCL headers: Debian builds oneDNN with its GPU runtime, so its CMake config asks for them
  libcli11-dev                # command-line flags
  nlohmann-json3-dev          # config.json, safetensors headers, JSON lines
  libstb-dev                  # image decoding (BMP, TGA, PNM, ...) and PNG writing
  libjpeg62-turbo-dev         # JPEG decoded as Pillow decodes it (docs/images.md): the libjpeg API of libjpeg-turbo
  libpng-dev                  # PNG decoded as Pillow decodes it (docs/images.md): palette indices, 16-bit samples
  libsndfile1-dev             # audio I/O
  libavformat-dev libavcodec-dev libswscale-dev libswresample-dev libavutil-dev  # video I/O (docs/video.md): FFmpeg's demuxers, codecs, RGB conversion
  ffmpeg                      # tests only: the ffmpeg CLI makes the test clips and the PNGs the video reader must equal
  doctest-dev                 # tests
  dataset-fashion-mnist       # data of the shipped classifier (training, and its test-set check)
  parallel                    # GNU parallel: docs/scaling.md's recipes, run by tests/scaleout/recipes.sh
  slurmctld slurmd            # a single-node Slurm on loopback for the same (tests/scaleout/slurm-local.sh; pulls in munge)
)
# Open-ended fuzzing (docs/testing.md, "Fuzzing"): clang with libFuzzer and the sanitizer runtimes, and
# clang's OpenMP (find_package(OpenMP) needs it once CXX is clang).
fuzz_packages=(clang-14 libclang-rt-14-dev libomp-14-dev)

case ${1:-} in
  "") ;;
  --fuzz) packages+=("${fuzz_packages[@]}") ;;
  *) echo "usage: bash scripts/install-deps.sh [--fuzz]" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
