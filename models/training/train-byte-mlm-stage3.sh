#!/usr/bin/env bash
# Third stage of models/byte-mlm (models/README.md): continues from the stage-2 model (FROM,
# default models/byte-mlm as shipped after stage 2) with a fresh AdamW state and a gentler
# warm-up + cosine (peak 3e-4, under half of stage 2's), 18,500 steps of 16 windows on two
# threads, new batch order and masks (seed 3). Stage 2's held-out accuracy was still rising by
# about half a point per thousand steps in its cosine tail; this is one more run of under two
# hours on this machine. Writes OUT (default runs/byte-mlm-stage3).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/byte-mlm-stage3}
from=${FROM:-models/byte-mlm}
build/apps/perceiver-train mlm --data /usr/share/doc/python3.11/html/_sources --masking words --from "$from" \
  --batch 16 --steps 18500 --warmup 300 --lr 3e-4 --log-every 50 \
  --eval-every 1000 --save-every 500 --eval-windows 256 --seed 3 -t 2 -o "$out" --plot "$out/curve.svg" "${@:2}"
