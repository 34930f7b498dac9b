#!/usr/bin/env bash
# Trains models/fashion-mnist exactly as shipped (models/README.md): Fashion-MNIST from Debian's
# dataset-fashion-mnist, Fourier position features, 7000 steps of 64 images (7.5 epochs), one
# thread. Writes OUT (default runs/fashion-mnist): the model folder, metrics.jsonl and curve.svg.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-runs/fashion-mnist}
F=/usr/share/datasets/fashion-mnist
build/apps/perceiver-train classify \
  --train-images $F/train-images-idx3-ubyte.gz --train-labels $F/train-labels-idx1-ubyte.gz \
  --test-images $F/t10k-images-idx3-ubyte.gz --test-labels $F/t10k-labels-idx1-ubyte.gz \
  --label-names models/training/fashion-mnist-labels.txt \
  --preprocessor fourier --num-latents 64 --d-latents 128 --layers 4 --self-heads 4 --cross-heads 4 \
  --qk-channels 64 --widening 2 --mean 0.286 --std 0.353 \
  --batch 64 --steps 7000 --warmup 300 --lr 1e-3 --log-every 50 --eval-every 500 --save-every 500 \
  --eval-images 2000 --seed 1 -t 1 -o "$out" --plot "$out/curve.svg" "${@:2}"
