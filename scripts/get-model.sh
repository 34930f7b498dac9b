#!/usr/bin/env bash
# Downloads one of the six released Perceiver IO model folders from the HuggingFace Hub
# (organisation deepmind): config.json, the weights file the repo ships on its main branch
# (model.safetensors when there is one, else pytorch_model.bin; every tool reads both) and the
# processor/tokenizer files the repo has. Downloads resume where they stopped (curl -C -): run the
# same command again after an interruption. A file appears under its final name only once it is
# complete (it is fetched as NAME.part first).
set -uo pipefail

readonly MODELS=(language-perceiver vision-perceiver-learned vision-perceiver-fourier vision-perceiver-conv
                 optical-flow-perceiver multimodal-perceiver)

usage() {
  cat <<EOF
usage: get-model.sh [-h] NAME [DEST]

Downloads the HuggingFace Hub repo deepmind/NAME into DEST
(default: \${PERCEIVER_MODELS:-\$HOME/models}/NAME).

NAME is one of:
  language-perceiver         masked language model (perceiver-mlm)
  vision-perceiver-learned   ImageNet classifier, learned positions (perceiver-classify)
  vision-perceiver-fourier   ImageNet classifier, Fourier features (perceiver-classify)
  vision-perceiver-conv      ImageNet classifier, conv stem (perceiver-classify)
  optical-flow-perceiver     optical flow (perceiver-flow)
  multimodal-perceiver       video+audio autoencoder (perceiver-autoencode)

Environment: HF_ENDPOINT (default https://huggingface.co) selects a mirror; any URL curl
reads works, file:// included.

Exit codes: 0 done, 2 usage, 3 the hub could not be reached or a download failed (run again to
resume), 4 a required file is not in the repo.
EOF
}

die() {  # die CODE MESSAGE
  echo "get-model.sh: error: $2" >&2
  exit "$1"
}

name=""
dest=""
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    -*) usage >&2; die 2 "unknown option '$1'" ;;
    *)
      if [[ -z $name ]]; then name=$1
      elif [[ -z $dest ]]; then dest=$1
      else usage >&2; die 2 "too many arguments ('$1')"
      fi ;;
  esac
  shift
done
while (($#)); do
  if [[ -z $name ]]; then name=$1
  elif [[ -z $dest ]]; then dest=$1
  else usage >&2; die 2 "too many arguments ('$1')"
  fi
  shift
done

if [[ -z $name ]]; then
  usage >&2
  die 2 "no model NAME given"
fi
known=0
for model in "${MODELS[@]}"; do [[ $model == "$name" ]] && known=1; done
if ((!known)); then
  die 2 "unknown model '$name' (one of: ${MODELS[*]})"
fi
command -v curl >/dev/null 2>&1 || die 3 "curl is not installed (apt-get install curl)"

endpoint=${HF_ENDPOINT:-https://huggingface.co}
endpoint=${endpoint%/}
dest=${dest:-${PERCEIVER_MODELS:-$HOME/models}/$name}
base="$endpoint/deepmind/$name/resolve/main"
mkdir -p "$dest" || die 3 "cannot create '$dest'"

# fetch FILE: downloads FILE into $dest (resuming a .part); returns 0 when it is there, 1 when the
# repo does not have it; exits on any other failure.
fetch() {
  local file=$1 target="$dest/$1" part="$dest/$1.part" rc status
  if [[ -s $target ]]; then
    echo "have $target" >&2
    return 0
  fi
  echo "fetching $base/$file" >&2
  local progress=(--silent)  # failures are explained below
  [[ -t 2 ]] && progress=(--progress-bar)
  for attempt in 1 2; do
    status=$(curl --fail --location --retry 3 --retry-delay 2 --connect-timeout 30 "${progress[@]}" \
                  --continue-at - --output "$part" --write-out '%{http_code}' "$base/$file")
    rc=$?
    # 33: the server cannot resume (or the .part is already whole): start again once from zero.
    if ((rc == 33 || (rc == 22 && status == 416))) && ((attempt == 1)); then
      rm -f "$part"
      continue
    fi
    break
  done
  case $rc in
    0)
      mv -f "$part" "$target" || die 3 "cannot write '$target'"
      return 0 ;;
    22 | 37)  # HTTP error status (404 and the like) / file:// mirror without the file
      [[ -s $part ]] || rm -f "$part"
      if [[ $rc == 22 && $status != 404 ]]; then
        die 3 "$base/$file: HTTP status $status (run the same command again to resume)"
      fi
      echo "  (deepmind/$name has no $file)" >&2
      return 1 ;;
    5 | 6 | 7 | 28 | 35 | 52 | 55 | 56)
      die 3 "cannot reach $endpoint (curl exit code $rc: no network, DNS or proxy problem?); $dest keeps what was downloaded, run the same command again to resume" ;;
    *)
      die 3 "downloading $base/$file failed (curl exit code $rc); run the same command again to resume" ;;
  esac
}

fetch config.json || die 4 "deepmind/$name has no config.json at $base"
# The weights: model.safetensors where the repo's main branch has it, else pytorch_model.bin
# (one of them: a weights file already here, or a partial one, decides).
if [[ -s $dest/model.safetensors || -e $dest/model.safetensors.part ]]; then
  fetch model.safetensors || die 4 "deepmind/$name has no model.safetensors at $base"
elif [[ -s $dest/pytorch_model.bin || -e $dest/pytorch_model.bin.part ]]; then
  fetch pytorch_model.bin || die 4 "deepmind/$name has no pytorch_model.bin at $base"
elif ! fetch model.safetensors; then
  fetch pytorch_model.bin || die 4 "deepmind/$name has neither model.safetensors nor pytorch_model.bin at $base"
fi
case $name in
  vision-perceiver-*) fetch preprocessor_config.json || true ;;
  language-perceiver)
    fetch tokenizer_config.json || true
    fetch special_tokens_map.json || true ;;
esac

case $name in
  language-perceiver) run="perceiver-mlm -m '$dest' samples/mlm/sentence.txt" ;;
  vision-perceiver-*) run="perceiver-classify -m '$dest' samples/images/chelsea.png" ;;
  optical-flow-perceiver) run="perceiver-flow -m '$dest' frame1.png frame2.png -o flow.flo" ;;
  multimodal-perceiver) run="perceiver-autoencode -m '$dest' --video samples/clip/frames --audio samples/clip/speech.wav -o recon/" ;;
esac
echo "$name is in $dest; try: $run"
