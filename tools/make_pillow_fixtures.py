#!/usr/bin/python3
"""Writes the image-decoding fixtures under tests/data/pillow (run once; the results are committed,
so neither the build nor the tests need Python).

Needs Debian's python3-pil (Pillow 9.4, the Pillow of the released checkpoints' reference
pipeline on Debian 12) and, for the restart-marker, arithmetic-coded and 4:4:0 JPEGs that Pillow
cannot write, libjpeg-turbo-progs (jpegtran, cjpeg):

    apt-get install python3-pil libjpeg-turbo-progs
    /usr/bin/python3 tools/make_pillow_fixtures.py

Every image is drawn from one deterministic pattern and encoded with Pillow itself where Pillow
can write the variant, by hand (PNG chunks, GIF records with a plain LZW stream) where it cannot,
or by libjpeg-turbo's tools from a Pillow-written file. For each image it writes <name>.rgb: the
bytes of Image.open(f), ImageOps.exif_transpose, .convert("RGB") -- what transformers' load_image
gives the image processor -- row-major R, G, B. manifest.json lists them:
  {"file", "rgb", "width", "height", "pillow_mode" (the mode Pillow opens it in), "what",
   "cuts_pillow_decodes": the lengths k at which Pillow still decodes the file's first k bytes}.
tests/unit/test_pillow_decoding.cpp decodes every file with lib/media and compares byte for byte.
"""
import io
import json
import os
import struct
import subprocess
import warnings
import zlib

from PIL import Image, ImageOps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "pillow")

MANIFEST = []


def pattern(width, height):
    """RGB bytes: gradients, a checkerboard of fine detail, a saturated red/blue block (chroma
    edges are where JPEG decoders part), all deterministic."""
    out = bytearray()
    for y in range(height):
        for x in range(width):
            r = x * 255 // max(1, width - 1)
            g = y * 255 // max(1, height - 1)
            b = (x * 37 + y * 91 + (x * y) % 17 * 11) % 256
            if (x // 2 + y // 2) % 2 == 0:
                g = 255 - g
            if width // 3 <= x < width // 2 and height // 3 <= y < height // 2:
                r, g, b = 230, 10, 40
            if x >= width - 4 and y < 5:
                r, g, b = 20, 30, 235
            out += bytes((r, g, b))
    return bytes(out)


def rgb_image(width, height):
    return Image.frombytes("RGB", (width, height), pattern(width, height))


def gray_values(width, height):
    return bytes(pattern(width, height)[i * 3 + (i % 3)] for i in range(width * height))


def add(name, data, what):
    """Writes the image file and Pillow's decoding of it (what transformers' load_image does)."""
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    im = Image.open(io.BytesIO(data))
    mode = im.mode
    im = ImageOps.exif_transpose(im)
    rgb = im.convert("RGB")
    with open(os.path.join(OUT, name + ".rgb"), "wb") as f:
        f.write(rgb.tobytes())
    MANIFEST.append({"file": name, "rgb": name + ".rgb", "width": rgb.size[0], "height": rgb.size[1],
                     "pillow_mode": mode, "what": what, "cuts_pillow_decodes": cuts_decoded(data)})


def cuts_decoded(data):
    """The lengths k < len(data) at which Pillow still decodes data[:k] (to the same pixels)."""
    whole = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB").tobytes()
    decoded = []
    for k in range(len(data)):
        try:
            im = ImageOps.exif_transpose(Image.open(io.BytesIO(data[:k]))).convert("RGB")
        except Exception:  # what Pillow raises for a cut file: OSError, SyntaxError, ValueError, ...
            continue
        if im.tobytes() != whole:
            raise SystemExit(f"Pillow decodes a cut of {k} bytes to other pixels")
        decoded.append(k)
    return decoded


def saved(im, fmt, **options):
    buffer = io.BytesIO()
    im.save(buffer, fmt, **options)
    return buffer.getvalue()


def tool(args, data):
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


# ---- hand-made PNG and GIF files (variants Pillow does not write) --------------------------------

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, color_type, depth, rows, chunks=()):
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    body = b"".join(png_chunk(kind, data) for kind, data in chunks)
    idat = zlib.compress(b"".join(b"\0" + row for row in rows), 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + body + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def gif_lzw(indices, min_bits):
    """A valid LZW stream that never lets the code table grow: a clear code every 2^bits - 2
    symbols keeps the code size at min_bits + 1 (the 'uncompressed GIF' technique)."""
    clear, size = 1 << min_bits, min_bits + 1
    codes, run = [clear], 0
    for value in indices:
        codes.append(value)
        run += 1
        if run == clear - 2:
            codes.append(clear)
            run = 0
    codes.append(clear + 1)
    packed, acc, bits = bytearray(), 0, 0
    for code in codes:
        acc |= code << bits
        bits += size
        while bits >= 8:
            packed.append(acc & 0xFF)
            acc >>= 8
            bits -= 8
    if bits:
        packed.append(acc & 0xFF)
    out = bytearray([min_bits])
    for i in range(0, len(packed), 255):
        out.append(len(packed[i:i + 255]))
        out += packed[i:i + 255]
    return bytes(out + b"\0")


def gif(screen_w, screen_h, global_palette, frame, transparency=None, local_palette=None, min_bits=None):
    """A one-frame GIF89a; frame = (x, y, w, h, indices)."""
    def table_bits(palette):
        return (len(palette) // 3).bit_length() - 2  # 2^(n+1) entries
    out = b"GIF89a" + struct.pack("<HH", screen_w, screen_h)
    out += bytes((0x80 | table_bits(global_palette), 0, 0)) + global_palette if global_palette else b"\0\0\0"
    if transparency is not None:
        out += b"\x21\xf9\x04" + bytes((1, 0, 0, transparency, 0))
    x, y, w, h, indices = frame
    flags = 0x80 | table_bits(local_palette) if local_palette else 0
    out += b"," + struct.pack("<HHHHB", x, y, w, h, flags) + (local_palette or b"")
    return out + gif_lzw(indices, min_bits or 8) + b";"


def palette_of(colours):
    return b"".join(bytes(c) for c in colours)


# ---- the fixtures ------------------------------------------------------------------------------------

def jpegs():
    w, h = 29, 21  # not a multiple of any MCU: partial blocks at the right and bottom
    im = rgb_image(w, h)
    add("baseline_420.jpg", saved(im, "JPEG", quality=90, subsampling=2), "baseline JPEG, YCbCr 4:2:0 (Pillow's default)")
    add("baseline_422.jpg", saved(im, "JPEG", quality=90, subsampling=1), "baseline JPEG, 4:2:2")
    add("baseline_444.jpg", saved(im, "JPEG", quality=90, subsampling=0), "baseline JPEG, 4:4:4")
    add("progressive.jpg", saved(im, "JPEG", quality=85, progressive=True), "progressive JPEG, 4:2:0")
    add("low_quality.jpg", saved(im, "JPEG", quality=15), "baseline JPEG at quality 15 (large coefficients)")
    add("grayscale.jpg", saved(Image.frombytes("L", (w, h), gray_values(w, h)), "JPEG", quality=90),
        "one-component (grayscale) JPEG")
    base = saved(im, "JPEG", quality=90, subsampling=2)
    add("restart.jpg", tool(["jpegtran", "-restart", "1B"], base), "4:2:0 with a restart marker after every MCU (jpegtran -restart 1B)")
    add("arithmetic.jpg", tool(["jpegtran", "-arithmetic"], base), "arithmetic-coded 4:2:0 (jpegtran -arithmetic)")
    add("sample_440.jpg", tool(["cjpeg", "-quality", "90", "-sample", "1x2,1x1,1x1"], saved(im, "PPM")),
        "4:4:0 (vertical-only chroma subsampling, cjpeg -sample 1x2)")
    cmyk = Image.frombytes("CMYK", (w, h), bytes(
        v for i in range(w * h) for v in (pattern(w, h)[i * 3], pattern(w, h)[i * 3 + 1], 255 - pattern(w, h)[i * 3 + 2], (i * 7) % 200)))
    add("cmyk_adobe.jpg", saved(cmyk, "JPEG", quality=90), "CMYK JPEG with an Adobe marker (inverted, as Photoshop writes)")
    exif = Image.Exif()
    exif[0x0112] = 6
    add("exif_rotated.jpg", saved(im, "JPEG", quality=90, exif=exif.tobytes()), "4:2:0 with EXIF Orientation 6 (turned upright)")


def gifs():
    w, h = 20, 14
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (250, 250, 0), (0, 250, 250), (120, 60, 10), (255, 255, 255), (9, 9, 9)]
    indices = bytes((x * 3 + y * 5 + (x * y) % 3) % 8 for y in range(h) for x in range(w))
    im = Image.frombytes("P", (w, h), indices)
    im.putpalette(palette_of(colours))
    add("transparent.gif", saved(im, "GIF", transparency=3, interlace=False),
        "palette GIF with a transparent index (its pixels keep the palette colour)")
    tall = Image.frombytes("P", (w, 19), bytes((x * 7 + y * 3) % 8 for y in range(19) for x in range(w)))
    tall.putpalette(palette_of(colours))  # Pillow interlaces only images of 16 rows or more
    add("interlaced.gif", saved(tall, "GIF", interlace=True), "interlaced palette GIF (19 rows: every pass)")
    add("grayscale.gif", saved(Image.frombytes("L", (w, h), gray_values(w, h)), "GIF"), "grayscale GIF (mode L)")
    frame = bytes((i * 5) % 8 for i in range(9 * 6))
    add("offset_frame.gif", gif(w, h, palette_of(colours), (5, 4, 9, 6, frame), transparency=2),
        "first frame smaller than the screen: the rest is the transparent index's colour")
    add("offset_opaque.gif", gif(w, h, palette_of(colours), (5, 4, 9, 6, frame)),
        "first frame smaller than the screen, no transparency: the rest is index 0")
    add("frame_past_screen.gif", gif(8, 6, palette_of(colours), (4, 3, 9, 6, frame)),
        "first frame reaching past the logical screen: the image grows to hold it")
    local = palette_of([(1, 2, 3), (40, 50, 60), (70, 80, 90), (100, 110, 120)])
    add("local_palette_oor.gif", gif(6, 4, palette_of(colours), (0, 0, 6, 4, bytes(range(24))), local_palette=local, min_bits=5),
        "local colour table of 4 entries with indices up to 23 (past the table: a grey ramp)")


def pngs():
    w, h = 20, 14
    im = rgb_image(w, h)
    add("rgb.png", saved(im, "PNG"), "8-bit RGB PNG")
    add("rgba.png", saved(Image.merge("RGBA", im.split() + (Image.frombytes("L", (w, h), gray_values(w, h)),)), "PNG"),
        "8-bit RGBA PNG (alpha dropped, not blended)")
    add("gray_alpha.png", saved(Image.merge("LA", (Image.frombytes("L", (w, h), gray_values(w, h)), im.split()[0])), "PNG"),
        "8-bit grey + alpha PNG")
    gray16 = Image.frombytes("I;16", (w, h), b"".join(struct.pack("<H", (v * 3) % 600) for v in gray_values(w, h)))
    add("gray16.png", saved(gray16, "PNG"), "16-bit grey PNG, values 0..599 (Pillow opens it as mode I and clips to 255)")
    rows16 = [b"".join(struct.pack(">HHH", r * 257, g * 256 + y * 9, b * 251 + x) for x, (r, g, b) in
                       enumerate(zip(*[iter(pattern(w, h)[y * w * 3:(y + 1) * w * 3])] * 3))) for y in range(h)]
    add("rgb16.png", png(w, h, 2, 16, rows16), "16-bit RGB PNG (the high byte of each sample)")
    rows_la16 = [b"".join(struct.pack(">HH", v * 256 + 3, 65535 - v) for v in gray_values(w, h)[y * w:(y + 1) * w]) for y in range(h)]
    add("gray_alpha16.png", png(w, h, 4, 16, rows_la16), "16-bit grey + alpha PNG")
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (250, 250, 0), (0, 0, 0)]
    p = Image.frombytes("P", (w, h), bytes((x + 2 * y) % 5 for y in range(h) for x in range(w)))
    p.putpalette(palette_of(colours))
    add("palette_trns.png", saved(p, "PNG", transparency=bytes((0, 128, 255, 64, 0))),
        "palette PNG with a tRNS chunk (transparency ignored, palette colours kept)")
    add("palette_4bit.png", saved(p, "PNG", bits=4), "4-bit palette PNG")
    add("palette_oor.png", png(6, 2, 3, 8, [bytes((0, 1, 2, 3, 4, 5)), bytes((100, 150, 200, 250, 255, 1))],
                               chunks=[(b"PLTE", palette_of([(10, 20, 30), (40, 50, 60)]))]),
        "palette PNG of 2 entries with indices past it (Pillow: a grey ramp there)")
    add("gray_trns.png", saved(Image.frombytes("L", (w, h), gray_values(w, h)), "PNG", transparency=77),
        "8-bit grey PNG with a tRNS colour")
    add("gray_1bit.png", saved(Image.frombytes("L", (w, h), gray_values(w, h)).convert("1"), "PNG"), "1-bit grey PNG")
    add("gray_2bit.png", png(w, 2, 0, 2, [bytes(((4 * x) % 256, (4 * x + 1) % 256, 27, 228, 0)) for x in range(2)]),
        "2-bit grey PNG (values scaled by 85)")


def others():
    w, h = 20, 14
    im = rgb_image(w, h)
    add("rgb24.bmp", saved(im, "BMP"), "24-bit BMP")
    p = im.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    add("palette8.bmp", saved(p, "BMP"), "8-bit palette BMP")
    add("rgb.tga", saved(im, "TGA"), "24-bit TGA")
    add("rle.tga", saved(im, "TGA", compression="tga_rle"), "run-length-coded 24-bit TGA")
    add("rgb.ppm", saved(im, "PPM"), "binary PPM (P6)")
    add("gray.pgm", saved(Image.frombytes("L", (w, h), gray_values(w, h)), "PPM"), "binary PGM (P5)")


def main():
    warnings.simplefilter("ignore")  # Pillow's advice about palette transparency
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        if name != "README.md":
            os.remove(os.path.join(OUT, name))
    jpegs()
    gifs()
    pngs()
    others()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(MANIFEST, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(MANIFEST)} images, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
