#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/ (docs/testing.md,
"Fuzzing"). Run once by hand, from anywhere: python3 tools/make_fuzz_corpus.py. Standard library
only; audio files are encoded by libsndfile through ctypes, JPEG/GIF/BMP/TGA images by
ImageMagick's `convert` when it is installed (they are skipped otherwise). Small files are copied
from tests/data. Existing files are overwritten, others (e.g. inputs a fuzzer found) are kept."""

import ctypes
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
DATA = os.path.join(ROOT, "tests", "data")


def out(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def copy(target, src, name=None):
    with open(src, "rb") as f:
        out(target, name or os.path.basename(src), f.read())


# ---- safetensors ---------------------------------------------------------------------------------

def f16(x):
    return struct.pack("<e", x)


def bf16(x):
    return struct.pack("<f", x)[2:]


def safetensors(tensors, metadata=None, pad=True):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def make_safetensors():
    f32 = lambda *v: struct.pack("<%df" % len(v), *v)
    out("safetensors", "mixed.safetensors", safetensors([
        ("w", "F32", [2, 3], f32(1, -2, 3.5, float("inf"), float("nan"), 0)),
        ("h", "F16", [3], f16(1.0) + f16(-0.5) + f16(65504)),
        ("b", "BF16", [2, 1], bf16(3.0) + bf16(-1e30)),
        ("ids", "I64", [2], struct.pack("<2q", 7, -1)),
        ("mask", "U8", [4], bytes([0, 1, 255, 3])),
    ], metadata={"format": "pt"}))
    out("safetensors", "scalar_and_empty.safetensors", safetensors([
        ("scalar", "F32", [], f32(42)),
        ("empty", "F32", [0, 5], b""),
        ("empty2", "I64", [3, 0], b""),
    ]))
    out("safetensors", "unaligned.safetensors", safetensors([
        ("u8", "U8", [3], b"\x01\x02\x03"),
        ("f", "F32", [2], f32(0.25, -8)),
        ("i", "I64", [1], struct.pack("<q", 1 << 40)),
    ], pad=False))
    out("safetensors", "no_tensors.safetensors", safetensors([], metadata={"a": "b", "": "\u00e9"}))
    out("safetensors", "empty_header.safetensors", safetensors([]))
    # Refused ones: overlapping spans, bad dtype, truncated data.
    bad = safetensors([("a", "F32", [2], f32(1, 2)), ("b", "F32", [1], f32(3))])
    out("safetensors", "truncated.safetensors", bad[:-3])
    text = b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
    out("safetensors", "overlap.safetensors", struct.pack("<Q", len(text)) + text + b"\0" * 8)
    text = b'{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}'
    out("safetensors", "f64.safetensors", struct.pack("<Q", len(text)) + text + b"\0" * 8)
    copy("safetensors", os.path.join(DATA, "bin_fixtures", "features", "expected.safetensors"), "features_expected.safetensors")
    copy("safetensors", os.path.join(DATA, "golden", "flow", "outputs.safetensors"), "flow_outputs.safetensors")
    # Nested 3,000 deep (the parsers refuse more than 64 levels; docs/batch.md).
    text = b'{"x": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    out("safetensors", "deep_header.safetensors", struct.pack("<Q", len(text)) + text)


# ---- config.json and preprocessor_config.json --------------------------------------------------

def make_config():
    seen = set()
    for folder in ("golden", "bin_fixtures"):
        for model in sorted(os.listdir(os.path.join(DATA, folder))):
            path = os.path.join(DATA, folder, model, "config.json")
            if not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                data = f.read()
            if data in seen:
                continue
            seen.add(data)
            out("config", "config_%s_%s.json" % (folder, model), data)
    processors = {
        "preprocessor_legacy.json": {"crop_size": 256, "do_center_crop": True, "do_normalize": True, "do_resize": True,
                                     "feature_extractor_type": "PerceiverFeatureExtractor",
                                     "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
                                     "resample": 3, "size": 224},
        "preprocessor_new.json": {"crop_size": {"height": 256, "width": 256}, "do_center_crop": True,
                                  "do_normalize": True, "do_rescale": True, "do_resize": True,
                                  "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
                                  "image_processor_type": "PerceiverImageProcessor", "resample": 3,
                                  "rescale_factor": 0.00392156862745098, "size": {"height": 224, "width": 224}},
        "preprocessor_small.json": {"crop_size": 8, "size": 6, "do_normalize": False, "rescale_factor": 1},
        "preprocessor_pad.json": {"crop_size": 4, "size": 9, "do_resize": False},
        "preprocessor_bad_resample.json": {"resample": 2},
    }
    for name, value in processors.items():
        out("config", name, json.dumps(value, indent=2).encode())
    out("config", "minimal.json", b'{"architectures": ["PerceiverForMaskedLM"]}')
    out("config", "deep_nesting.json", b'{"architectures": ' + b"[" * 3000 + b"]" * 3000 + b"}")
    out("config", "nulls.json", b'{"qk_channels": null, "v_channels": 64, "train_size": [8, 16], "id2label": {"0": "a", "5": "b"}}')


# ---- images -------------------------------------------------------------------------------------

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png(width, height, color_type, bit_depth, rows, extra=b"", palette=None):
    raw = b"".join(b"\0" + row for row in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    body = png_chunk(b"IHDR", ihdr)
    if palette:
        body += png_chunk(b"PLTE", palette)
    body += extra + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def tiff_orientation(value, little=True):
    e = "<" if little else ">"
    return (b"II" if little else b"MM") + struct.pack(e + "HI", 42, 8) + struct.pack(e + "H", 1) + \
        struct.pack(e + "HHIHH", 0x0112, 3, 1, value, 0) + struct.pack(e + "I", 0)


def make_images():
    w, h = 5, 3
    rgb_rows = [bytes((x * 50 + y * 7) % 256 for x in range(w) for _ in range(3)) for y in range(h)]
    out("image", "rgb.png", png(w, h, 2, 8, rgb_rows))
    out("image", "gray.png", png(w, h, 0, 8, [bytes(range(y * w, y * w + w)) for y in range(h)]))
    out("image", "gray16.png", png(2, 2, 0, 16, [b"\x12\x34\xff\xff", b"\x00\x00\x80\x00"]))
    out("image", "gray_alpha.png", png(2, 1, 4, 8, [b"\x10\xff\x20\x00"]))
    out("image", "rgba.png", png(2, 2, 6, 8, [b"\xff\0\0\x80\0\xff\0\xff", b"\0\0\xff\0\x10\x20\x30\x40"]))
    out("image", "palette.png", png(3, 1, 3, 8, [b"\0\1\2"], palette=b"\xff\0\0\0\xff\0\0\0\xff"))
    out("image", "palette4.png", png(4, 1, 3, 4, [b"\x01\x23"], palette=bytes(range(48))))
    out("image", "rgb16.png", png(1, 1, 2, 16, [b"\x12\x34\x56\x78\x9a\xbc"]))
    out("image", "exif6.png", png(w, h, 2, 8, rgb_rows, extra=png_chunk(b"eXIf", tiff_orientation(6))))
    out("image", "exif8_be.png", png(w, h, 2, 8, rgb_rows, extra=png_chunk(b"eXIf", tiff_orientation(8, little=False))))
    out("image", "p6.ppm", b"P6\n3 2\n255\n" + bytes(range(18)))
    out("image", "p5.pgm", b"P5 2 2 255 " + b"\x00\x40\x80\xff")
    # 24-bit BMP, bottom-up, rows padded to 4 bytes.
    bw, bh = 3, 2
    row = bytes(range(9)) + b"\0\0\0"
    pixels = row * bh
    out("image", "rgb24.bmp", b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54) +
        struct.pack("<IiiHHIIiiII", 40, bw, bh, 1, 24, 0, len(pixels), 2835, 2835, 0, 0) + pixels)
    # Uncompressed true-colour TGA.
    out("image", "rgb.tga", struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 2, 2, 24, 0) + bytes(range(12)))
    out("image", "img1.png", open(os.path.join(DATA, "golden", "image_processor", "img1.png"), "rb").read())
    convert = shutil.which("convert")
    if not convert:
        print("convert (ImageMagick) not found: JPEG, GIF and RLE images skipped", file=sys.stderr)
        return
    src = os.path.join(ROOT, "samples", "clip", "frames", "000000.jpg")
    with tempfile.TemporaryDirectory() as tmp:
        jobs = {
            "baseline.jpg": [src, "-resize", "12x9!", "-quality", "80", "-strip"],
            "progressive.jpg": [src, "-resize", "10x7!", "-interlace", "Plane", "-strip"],
            "gray.jpg": [src, "-resize", "8x8!", "-colorspace", "Gray", "-strip"],
            "subsample411.jpg": [src, "-resize", "17x5!", "-sampling-factor", "4:1:1", "-strip"],
            "anim.gif": ["-size", "6x4", "gradient:red-blue", "-size", "6x4", "xc:green", "-loop", "0"],
            "gray.gif": ["-size", "5x5", "gradient:", "-colors", "4"],
            "rle.tga": ["-size", "7x3", "gradient:red-blue", "-compress", "RLE"],
            "rle8.bmp": ["-size", "7x3", "gradient:", "-colors", "16", "-type", "Palette", "-compress", "RLE", "BMP3:"],
            "rgba32.bmp": ["-size", "3x3", "gradient:#ff000080-#00ff00ff", "-define", "bmp:format=bmp4"],
            "interlaced.png": ["-size", "9x9", "gradient:red-blue", "-interlace", "PNG"],
        }
        for name, args in jobs.items():
            target = os.path.join(tmp, name)
            if args[-1].endswith(":"):  # explicit output format prefix
                args, target_arg = args[:-1], args[-1] + target
            else:
                target_arg = target
            if subprocess.run([convert] + args + [target_arg], capture_output=True).returncode == 0 and os.path.exists(target):
                out("image", name, open(target, "rb").read())
            else:
                print("convert failed for " + name, file=sys.stderr)
    # EXIF orientation 6 in an APP1 segment right after SOI (as cameras write it).
    jpeg = open(os.path.join(CORPUS, "image", "baseline.jpg"), "rb").read()
    payload = b"Exif\0\0" + tiff_orientation(6, little=False)
    out("image", "exif6.jpg", jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:])


# ---- .flo ---------------------------------------------------------------------------------------

def flo(width, height, values):
    return struct.pack("<fii", 202021.25, width, height) + struct.pack("<%df" % len(values), *values)


def make_flo():
    out("flo", "one.flo", flo(1, 1, [1.5, -2.0]))
    out("flo", "zero.flo", flo(2, 2, [0.0] * 8))
    out("flo", "unknown.flo", flo(3, 2, [1, 2, 1e10, 0, float("nan"), 1, -3, 4, float("inf"), 0, 0.5, -0.5]))
    out("flo", "wheel.flo", flo(8, 1, [math.cos(a * math.pi / 4) * 3 for a in range(8) for _ in (0,)] +
                                    [math.sin(a * math.pi / 4) * 3 for a in range(8)]))
    out("flo", "truncated.flo", flo(2, 2, [1.0] * 7))
    out("flo", "negative.flo", struct.pack("<fii", 202021.25, -1, 3))


# ---- audio --------------------------------------------------------------------------------------

class SF_INFO(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


def make_audio():
    try:
        lib = ctypes.CDLL("libsndfile.so.1")
    except OSError:
        print("libsndfile not found: audio corpus skipped", file=sys.stderr)
        return
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SF_INFO)]
    lib.sf_writef_float.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_int64]
    lib.sf_close.argtypes = [ctypes.c_void_p]
    SFM_WRITE = 0x20
    WAV, AIFF, AU, FLAC, OGG, W64, CAF, RAW_IMA = 0x010000, 0x020000, 0x030000, 0x170000, 0x200000, 0x0B0000, 0x180000, 0
    PCM_16, PCM_U8, PCM_24, FLOAT, ULAW, IMA_ADPCM, MS_ADPCM, VORBIS, ALAW = 2, 5, 3, 6, 0x10, 0x12, 0x13, 0x60, 0x11
    jobs = [
        ("pcm16_mono.wav", WAV | PCM_16, 8000, 1, 200),
        ("pcm16_stereo.wav", WAV | PCM_16, 16000, 2, 100),
        ("u8.wav", WAV | PCM_U8, 8000, 1, 64),
        ("float.wav", WAV | FLOAT, 48000, 1, 50),
        ("ima_adpcm.wav", WAV | IMA_ADPCM, 8000, 1, 300),
        ("ms_adpcm.wav", WAV | MS_ADPCM, 8000, 2, 300),
        ("ulaw.wav", WAV | ULAW, 8000, 1, 64),
        ("pcm24.aiff", AIFF | PCM_24, 44100, 1, 60),
        ("alaw.au", AU | ALAW, 8000, 1, 64),
        ("pcm16.w64", W64 | PCM_16, 8000, 1, 40),
        ("float.caf", CAF | FLOAT, 8000, 1, 40),
        ("mono.flac", FLAC | PCM_16, 16000, 1, 400),
        ("stereo.flac", FLAC | PCM_16, 8000, 2, 200),
        ("mono.ogg", OGG | VORBIS, 8000, 1, 400),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for name, fmt, rate, channels, frames in jobs:
            path = os.path.join(tmp, name)
            info = SF_INFO(0, rate, channels, fmt, 0, 0)
            handle = lib.sf_open(path.encode(), SFM_WRITE, ctypes.byref(info))
            if not handle:
                print("libsndfile cannot write " + name, file=sys.stderr)
                continue
            samples = (ctypes.c_float * (frames * channels))(*[
                0.6 * math.sin(2 * math.pi * 440 * (i // channels) / rate + (i % channels)) for i in range(frames * channels)])
            lib.sf_writef_float(handle, samples, frames)
            lib.sf_close(handle)
            out("audio", name, open(path, "rb").read())
    wav = open(os.path.join(CORPUS, "audio", "pcm16_mono.wav"), "rb").read()
    out("audio", "truncated.wav", wav[:100])


# ---- pytorch_model.bin and data.pkl ---------------------------------------------------------------

def make_pytorch():
    fixtures = os.path.join(DATA, "bin_fixtures")
    sources = [os.path.join(fixtures, "hostile", n) for n in sorted(os.listdir(os.path.join(fixtures, "hostile")))
               if n.endswith(".bin")]
    sources += [os.path.join(fixtures, "features", "pytorch_model.bin"),
                os.path.join(fixtures, "features_protocol4", "pytorch_model.bin")]
    for src in sources:
        name = os.path.basename(src) if "hostile" in src else os.path.basename(os.path.dirname(src)) + ".bin"
        copy("pytorch", src, name)
        try:
            with zipfile.ZipFile(src) as archive:
                for entry in archive.namelist():
                    if entry.endswith("/data.pkl"):
                        out("pickle", name[:-4] + ".pkl", archive.read(entry))
        except (zipfile.BadZipFile, NotImplementedError, zlib.error, OSError):
            pass  # the hostile archives that are not valid zips


def main():
    make_safetensors()
    make_config()
    make_images()
    make_flo()
    make_audio()
    make_pytorch()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(CORPUS) for f in files)
    print("corpus: %d bytes" % total)


if __name__ == "__main__":
    main()
