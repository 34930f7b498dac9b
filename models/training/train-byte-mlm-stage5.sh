#!/usr/bin/env bash
# Fifth stage of models/byte-mlm (models/README.md): the stage-4 model (FROM, default
# runs/byte-mlm-stage4) made twice as wide by `perceiver-train widen` (d_model = d_latents = 256,
# the same function; docs/training.md), then trained on the same mixed corpus and mixture of
# masking rules: a fresh AdamW state, 300 warm-up steps to a peak of 2e-4 (a peak of 4e-4 first undid
# some of what stage 4 had learned: held-out accuracy fell from 37.6 % to 34 % in 2,000 steps) and a cosine to 0 over
# 12,000 steps of 16 windows, seed 5, one thread (THREADS; the other core stays free for other
# work), in one invocation of about 100 minutes here; an interrupted run goes on with `--resume`.
# Writes WIDE (default runs/byte-mlm-stage4-wide) and OUT (default runs/byte-mlm-stage5).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/byte-mlm-stage5}
from=${FROM:-runs/byte-mlm-stage4}
wide=${WIDE:-runs/byte-mlm-stage4-wide}
data=${DATA:-runs/data/byte-mlm}
[[ -d $data ]] || bash models/training/byte-mlm-corpus.sh "$data"
[[ -f $wide/model.safetensors ]] || build/apps/perceiver-train widen -m "$from" -o "$wide"
build/apps/perceiver-train mlm --data "$data" --from "$wide" --masking mixture \
  --batch 16 --steps 12000 --warmup 300 --lr 2e-4 --log-every 50 \
  --eval-every 1000 --save-every 500 --eval-windows 512 --seed 5 -t "${THREADS:-1}" -o "$out" --plot "$out/curve.svg" "${@:2}"
