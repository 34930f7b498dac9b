#!/usr/bin/env bash
# Fourth stage of models/byte-mlm (models/README.md): continues from the stage-3 model (FROM,
# default models/byte-mlm as shipped before it, git 28edf9f) on the mixed corpus of
# models/training/byte-mlm-corpus.sh (English prose and technical text from Debian packages) with
# the mixture of masking rules (docs/training.md): single letters and bytes, whole words with and
# without their leading space, spans of words. A fresh AdamW state, 300 warm-up steps to a peak
# of 5e-4 and a cosine to 0 over 30,000 steps of 16 windows, seed 4, two threads. Run as shipped:
# the first invocation as below (15,000 steps, 29 min here), the second with `--resume
# --stop-after 7574` added (the same command otherwise), which stops at step 22,574 of the
# schedule: the shipped model went on from there, twice as wide (train-byte-mlm-stage5.sh), so
# the cosine's tail was not needed. Writes OUT (default runs/byte-mlm-stage4).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/byte-mlm-stage4}
from=${FROM:-models/byte-mlm}
data=${DATA:-runs/data/byte-mlm}
[[ -d $data ]] || bash models/training/byte-mlm-corpus.sh "$data"
build/apps/perceiver-train mlm --data "$data" --from "$from" --masking mixture \
  --batch 16 --steps 30000 --stop-after 15000 --warmup 300 --lr 5e-4 --log-every 50 \
  --eval-every 1000 --save-every 500 --eval-windows 512 --seed 4 -t 2 -o "$out" --plot "$out/curve.svg" "${@:2}"
