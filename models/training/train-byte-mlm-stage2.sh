#!/usr/bin/env bash
# Second stage of models/byte-mlm (models/README.md): continues from the stage-1 model that
# train-byte-mlm.sh makes (FROM, default models/byte-mlm as first shipped) with a fresh AdamW
# state and a new warm-up + cosine schedule, 19,500 steps of 16 windows on two threads. Each
# stage is one run of under two hours on this machine; together they are the longer schedule the
# first run's still-falling loss asked for. Writes OUT (default runs/byte-mlm-stage2).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/byte-mlm-stage2}
from=${FROM:-models/byte-mlm}
build/apps/perceiver-train mlm --data /usr/share/doc/python3.11/html/_sources --masking words --from "$from" \
  --batch 16 --steps 19500 --warmup 300 --lr 8e-4 --log-every 50 \
  --eval-every 1000 --save-every 500 --eval-windows 256 --seed 2 -t 2 -o "$out" --plot "$out/curve.svg" "${@:2}"
