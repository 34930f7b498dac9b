#!/usr/bin/env bash
# Trains models/byte-mlm exactly as shipped (models/README.md): byte-level masked language
# modelling on the Python 3.11 documentation sources from Debian's python3.11-doc, 128-token
# windows, positional initialisation (docs/training.md), 6000 steps of 16 windows, one thread.
# Writes OUT (default runs/byte-mlm): the model folder, metrics.jsonl and curve.svg.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/byte-mlm}
build/apps/perceiver-train mlm --data /usr/share/doc/python3.11/html/_sources --masking words \
  --init positional --num-latents 128 --d-latents 128 --d-model 128 --window 128 --layers 6 --widening 2 \
  --self-heads 8 --cross-heads 4 --batch 16 --steps 6000 --warmup 300 --lr 1e-3 --log-every 50 \
  --eval-every 500 --save-every 500 --eval-windows 256 --seed 1 -t 1 -o "$out" --plot "$out/curve.svg" "${@:2}"
