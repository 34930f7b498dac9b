#!/usr/bin/env python3
"""Writes the first test image of each Fashion-MNIST class as an 8-bit grey PNG into
samples/fashion-mnist/ (once; the PNGs are committed). Standard library only.

Usage: python3 tools/make_fashion_samples.py [/usr/share/datasets/fashion-mnist]
"""
import gzip
import os
import struct
import sys
import zlib

NAMES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return [data[16 + i * rows * cols:16 + (i + 1) * rows * cols] for i in range(count)], rows, cols
    return list(data[8:8 + count]), 0, 0


def png_grey(pixels, width, height):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + pixels[y * width:(y + 1) * width] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    images, rows, cols = read_idx(os.path.join(source, "t10k-images-idx3-ubyte.gz"))
    labels, _, _ = read_idx(os.path.join(source, "t10k-labels-idx1-ubyte.gz"))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "fashion-mnist")
    os.makedirs(out, exist_ok=True)
    for label, name in enumerate(NAMES):
        index = labels.index(label)
        path = os.path.join(out, "%d-%s-test%04d.png" % (label, name, index))
        with open(path, "wb") as f:
            f.write(png_grey(images[index], cols, rows))
        print(path)


if __name__ == "__main__":
    main()
