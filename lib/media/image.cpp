#include "media/image.h"

#include <stb_image.h>
#include <stb_image_write.h>

#include <climits>
#include <cstring>
#include <fstream>
#include <memory>
#include <utility>

#include "common/atomic_file.h"
#include "common/crc32.h"
#include "common/error.h"
#include "common/input_file.h"
#include "media/gif_decoder.h"
#include "media/image_codec.h"
#include "media/jpeg_decoder.h"
#include "media/png_decoder.h"

namespace perceiver {

namespace {

// ---- EXIF -------------------------------------------------------------------------------------

// Bounds-checked reads from a byte span; every accessor reports failure instead of reading past
// the end.
class ByteSpan {
 public:
  ByteSpan(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  size_t size() const { return size_; }
  const uint8_t* data() const { return data_; }
  bool has(size_t offset, size_t count) const { return offset <= size_ && count <= size_ - offset; }
  uint32_t u8(size_t offset) const { return data_[offset]; }
  uint32_t u16(size_t offset, bool little) const {
    const uint32_t a = data_[offset], b = data_[offset + 1];
    return little ? (a | b << 8) : (a << 8 | b);
  }
  uint32_t u32(size_t offset, bool little) const {
    const uint32_t lo = u16(offset, little), hi = u16(offset + 2, little);
    return little ? (lo | hi << 16) : (lo << 16 | hi);
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

// The Orientation tag (0x0112) of IFD0 of a TIFF structure ("II*\0" or "MM\0*" header, then the
// offset of IFD0; an IFD is a 16-bit entry count followed by 12-byte entries tag/type/count/value).
// Returns 1 when absent or malformed. Like PIL, a tag with more than one value is ignored.
int tiff_orientation(ByteSpan tiff) {
  if (!tiff.has(0, 8)) return 1;
  bool little;
  if (tiff.u8(0) == 'I' && tiff.u8(1) == 'I') {
    little = true;
  } else if (tiff.u8(0) == 'M' && tiff.u8(1) == 'M') {
    little = false;
  } else {
    return 1;
  }
  if (tiff.u16(2, little) != 42) return 1;
  const size_t ifd = tiff.u32(4, little);
  if (!tiff.has(ifd, 2)) return 1;
  const size_t entries = tiff.u16(ifd, little);
  for (size_t i = 0; i < entries; ++i) {
    const size_t entry = ifd + 2 + 12 * i;
    if (!tiff.has(entry, 12)) return 1;
    if (tiff.u16(entry, little) != 0x0112) continue;
    const uint32_t type = tiff.u16(entry + 2, little);
    const uint32_t count = tiff.u32(entry + 4, little);
    if (count != 1) return 1;
    uint32_t value;
    switch (type) {
      case 1:  // BYTE
        value = tiff.u8(entry + 8);
        break;
      case 3:  // SHORT (the type the standard prescribes)
        value = tiff.u16(entry + 8, little);
        break;
      case 4:  // LONG
        value = tiff.u32(entry + 8, little);
        break;
      default:
        return 1;
    }
    return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
  }
  return 1;
}

// An EXIF payload: a TIFF structure, optionally preceded by "Exif\0\0".
int exif_payload_orientation(ByteSpan payload) {
  static const uint8_t kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
  if (payload.has(0, 6) && std::memcmp(payload.data(), kExif, 6) == 0)
    return tiff_orientation(ByteSpan(payload.data() + 6, payload.size() - 6));
  return tiff_orientation(payload);
}

// JPEG: walks the marker segments after SOI up to SOS/EOI; the first APP1 segment starting with
// "Exif\0\0" holds the EXIF data (as PIL reads it).
int jpeg_orientation(ByteSpan file) {
  size_t pos = 2;  // after SOI (FF D8)
  while (file.has(pos, 2)) {
    if (file.u8(pos) != 0xFF) return 1;                       // not at a marker: give up
    while (file.has(pos, 1) && file.u8(pos) == 0xFF) ++pos;  // fill bytes
    if (!file.has(pos, 1)) return 1;
    const uint32_t marker = file.u8(pos++);
    if (marker == 0xD9 || marker == 0xDA) return 1;  // EOI, SOS: no more header segments
    if (marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (!file.has(pos, 2)) return 1;
    const size_t length = file.u16(pos, false);  // includes its own two bytes
    if (length < 2 || !file.has(pos, length)) return 1;
    static const uint8_t kExif[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (marker == 0xE1 && length - 2 >= 6 && std::memcmp(file.data() + pos + 2, kExif, 6) == 0)
      return tiff_orientation(ByteSpan(file.data() + pos + 8, length - 8));
    pos += length;
  }
  return 1;
}

// PNG: the eXIf chunk (anywhere before IEND) holds a TIFF structure.
int png_orientation(ByteSpan file) {
  size_t pos = 8;  // after the signature
  while (file.has(pos, 8)) {
    const size_t length = file.u32(pos, false);
    const uint8_t* type = file.data() + pos + 4;
    if (!file.has(pos + 8, length)) return 1;
    if (std::memcmp(type, "eXIf", 4) == 0) return exif_payload_orientation(ByteSpan(file.data() + pos + 8, length));
    if (std::memcmp(type, "IEND", 4) == 0) return 1;
    pos += 8 + length;
    if (!file.has(pos, 4)) return 1;
    pos += 4;  // CRC
  }
  return 1;
}

// ---- decoding ---------------------------------------------------------------------------------

std::string stb_reason() {
  const char* reason = stbi_failure_reason();
  return reason && *reason ? reason : "unknown error";
}

struct StbFree {
  void operator()(stbi_uc* pixels) const { stbi_image_free(pixels); }
};

bool is_png(ByteSpan file) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return file.has(0, 8) && std::memcmp(file.data(), kPng, 8) == 0;
}

bool is_jpeg(ByteSpan file) {
  return file.has(0, 3) && file.u8(0) == 0xFF && file.u8(1) == 0xD8 && file.u8(2) == 0xFF;
}

bool is_gif(ByteSpan file) {
  return file.has(0, 6) && (std::memcmp(file.data(), "GIF87a", 6) == 0 || std::memcmp(file.data(), "GIF89a", 6) == 0);
}

// The formats stb_image reads for us (BMP, TGA, PNM, PSD, HDR, PIC): RGB as PIL convert("RGB")
// makes it (grey replicated, alpha dropped, not blended, palettes expanded).
Image decode_with_stb(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits) {
  if (size > static_cast<size_t>(INT_MAX)) refuse_image(name, "file larger than 2 GiB");
  const int length = static_cast<int>(size);
  // The header alone first, so that an absurd size is refused before any pixel memory is taken.
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(bytes, length, &width, &height, &channels)) refuse_image(name, stb_reason());
  check_pixel_limit(width, height, name, limits);

  // Native channel count (0 = as stored): 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. 16-bit data is
  // reduced to 8 bits by stbi_load_from_memory, palettes are expanded.
  std::unique_ptr<stbi_uc, StbFree> pixels(stbi_load_from_memory(bytes, length, &width, &height, &channels, 0));
  if (!pixels) refuse_image(name, stb_reason());
  check_pixel_limit(width, height, name, limits);
  if (width <= 0 || height <= 0 || channels < 1 || channels > 4) refuse_image(name, "unexpected decoder result");

  Image image;
  image.width = width;
  image.height = height;
  const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height);
  image.rgb.resize(count * 3);
  const stbi_uc* in = pixels.get();
  uint8_t* out = image.rgb.data();
  switch (channels) {
    case 1:  // gray → R = G = B
    case 2:  // gray + alpha → gray replicated, alpha dropped (PIL convert("RGB") of LA)
      for (size_t i = 0; i < count; ++i, in += channels, out += 3) out[0] = out[1] = out[2] = in[0];
      break;
    case 3:
      std::memcpy(out, in, count * 3);
      break;
    case 4:  // RGBA → alpha dropped, not blended
      for (size_t i = 0; i < count; ++i, in += 4, out += 3) std::memcpy(out, in, 3);
      break;
  }
  return image;
}

}  // namespace

int image_exif_orientation(const uint8_t* bytes, size_t size) {
  const ByteSpan file(bytes, size);
  if (is_jpeg(file)) return jpeg_orientation(file);
  if (is_png(file)) return png_orientation(file);
  return 1;
}

// The EXIF orientations, as PIL.ImageOps.exif_transpose (used by transformers' load_image) undoes
// them. With the source W×H and src(x, y) its pixel at column x, row y, the upright image is:
//   2: mirrored left-right (PIL FLIP_LEFT_RIGHT)     out(x, y) = src(W-1-x, y)          W×H
//   3: rotated 180° (ROTATE_180)                     out(x, y) = src(W-1-x, H-1-y)      W×H
//   4: mirrored top-bottom (FLIP_TOP_BOTTOM)         out(x, y) = src(x, H-1-y)          W×H
//   5: transposed, main diagonal (TRANSPOSE)         out(x, y) = src(y, x)              H×W
//   6: rotated 90° clockwise (ROTATE_270)            out(x, y) = src(y, H-1-x)          H×W
//   7: transposed, anti-diagonal (TRANSVERSE)        out(x, y) = src(W-1-y, H-1-x)      H×W
//   8: rotated 90° counter-clockwise (ROTATE_90)     out(x, y) = src(W-1-y, x)          H×W
// 1 and anything else: unchanged.
Image apply_exif_orientation(const Image& image, int orientation) {
  if (orientation < 2 || orientation > 8) return image;
  const int64_t w = image.width, h = image.height;
  const bool swap = orientation >= 5;
  Image out;
  out.width = swap ? h : w;
  out.height = swap ? w : h;
  out.rgb.resize(image.rgb.size());
  for (int64_t y = 0; y < out.height; ++y) {
    for (int64_t x = 0; x < out.width; ++x) {
      int64_t sx = 0, sy = 0;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sx = x; sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        case 8: sx = w - 1 - y; sy = x; break;
      }
      std::memcpy(&out.rgb[static_cast<size_t>((y * out.width + x) * 3)],
                  &image.rgb[static_cast<size_t>((sy * w + sx) * 3)], 3);
    }
  }
  return out;
}

void refuse_image(const std::string& name, const std::string& reason) {
  fail(ErrorKind::Input, name + ": not a readable image (" + reason + ")");
}

void check_pixel_limit(int64_t width, int64_t height, const std::string& name, const ImageLimits& limits) {
  // width * height > max_pixels, without overflowing for 32-bit header fields.
  if (width > 0 && height > 0 && width > limits.max_pixels / height)
    fail(ErrorKind::Limit, name + ": image of " + std::to_string(width) + "x" + std::to_string(height) +
                               " pixels exceeds the limit of " + std::to_string(limits.max_pixels) +
                               " (raise it with --max-pixels)");
}

// Which decoder reads which format, and why, is docs/images.md's table.
Image decode_image(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits) {
  if (size == 0) refuse_image(name, "empty file");
  const ByteSpan file(bytes, size);
  Image image;
  if (is_jpeg(file)) {
    image = decode_jpeg(bytes, size, name, limits);
  } else if (is_png(file)) {
    image = decode_png(bytes, size, name, limits);
  } else if (is_gif(file)) {
    image = decode_gif(bytes, size, name, limits);
  } else {
    image = decode_with_stb(bytes, size, name, limits);
  }
  const int orientation = image_exif_orientation(bytes, size);
  if (orientation == 1) return image;
  return apply_exif_orientation(image, orientation);
}

ImageSize decode_image_size(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits) {
  if (size == 0) refuse_image(name, "empty file");
  const ByteSpan file(bytes, size);
  ImageSize out;
  if (is_jpeg(file)) {
    jpeg_size(bytes, size, name, out.width, out.height);
  } else if (is_png(file)) {
    if (!file.has(0, 24) || std::memcmp(bytes + 12, "IHDR", 4) != 0) refuse_image(name, "corrupt PNG header");
    out.width = file.u32(16, false);
    out.height = file.u32(20, false);
  } else if (is_gif(file)) {
    gif_size(bytes, size, name, out.width, out.height);
  } else {
    int width = 0, height = 0, channels = 0;
    if (size > static_cast<size_t>(INT_MAX) ||
        !stbi_info_from_memory(bytes, static_cast<int>(size), &width, &height, &channels))
      refuse_image(name, size > static_cast<size_t>(INT_MAX) ? "file larger than 2 GiB" : stb_reason());
    out.width = width;
    out.height = height;
  }
  if (out.width <= 0 || out.height <= 0) refuse_image(name, "empty image");
  check_pixel_limit(out.width, out.height, name, limits);
  if (image_exif_orientation(bytes, size) >= 5) std::swap(out.width, out.height);
  return out;
}

// Whether `start` (a file's first bytes) can begin an image stb_image reads: a known signature,
// or for TGA (which has none) a header with a valid image type. Refuses /dev/zero or a text file
// as an image after its first chunk instead of after reading all of it.
namespace {

bool may_be_image(const std::string& start) {
  const auto begins = [&](const char* magic) { return start.compare(0, std::strlen(magic), magic) == 0; };
  if (begins("\x89PNG") || begins("\xff\xd8\xff") || begins("GIF8") || begins("BM") || begins("8BPS") ||
      begins("#?RADIANCE") || begins("#?RGBE") || begins("\x53\x80\xf6\x34"))
    return true;
  if (start.size() >= 2 && start[0] == 'P' && start[1] >= '1' && start[1] <= '6') return true;
  if (start.size() >= 18) {  // TGA: colour-map type 0 or 1, image type 1-3 or 9-11
    const unsigned char map_type = static_cast<unsigned char>(start[1]), type = static_cast<unsigned char>(start[2]);
    return map_type <= 1 && ((type >= 1 && type <= 3) || (type >= 9 && type <= 11));
  }
  return false;
}

}  // namespace

std::string read_image_file(const std::string& path) {
  // stb_image takes an int length: 2 GiB is the most it can read (and more than any image the
  // pixel limit lets through needs).
  return read_input_file(path, {static_cast<uint64_t>(INT_MAX), ""}, ErrorKind::Input, [&](const std::string& start) {
    if (!may_be_image(start)) refuse_image(path, start.empty() ? "empty file" : "unknown image format");
  });
}

Image load_image(const std::string& path, const ImageLimits& limits) {
  const std::string bytes = read_image_file(path);
  return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, limits);
}

namespace {

void put_be32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

// tEXt chunks (PNG spec §11.3.4.3) inserted after IHDR, which stb writes first: the 8-byte
// signature, then IHDR's length, type, 13 data bytes and CRC (25 bytes).
void insert_text_chunks(std::string& png, const std::vector<PngText>& texts) {
  constexpr size_t kAfterHeader = 8 + 25;
  std::string chunks;
  for (const PngText& text : texts) {
    if (text.keyword.empty() || text.keyword.size() > 79 || text.keyword.find('\0') != std::string::npos ||
        text.text.find('\0') != std::string::npos)
      fail(ErrorKind::Internal, "a PNG text keyword must be 1-79 bytes without NUL: '" + text.keyword + "'");
    const std::string body = "tEXt" + text.keyword + std::string(1, '\0') + text.text;
    put_be32(chunks, static_cast<uint32_t>(body.size() - 4));
    chunks += body;
    put_be32(chunks, crc32(body.data(), body.size()));
  }
  png.insert(kAfterHeader, chunks);
}

}  // namespace

void write_png(const std::string& path, const Image& image, const std::vector<PngText>& texts) {
  if (image.width <= 0 || image.height <= 0 || image.width > INT_MAX / 3 || image.height > INT_MAX ||
      image.rgb.size() != static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3)
    fail(ErrorKind::Internal, path + ": cannot write an image of " + std::to_string(image.width) + "x" +
                                  std::to_string(image.height) + " pixels with " +
                                  std::to_string(image.rgb.size()) + " bytes");
  std::string encoded;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  const int width = static_cast<int>(image.width);
  if (!stbi_write_png_to_func(append, &encoded, width, static_cast<int>(image.height), 3, image.rgb.data(), width * 3))
    fail(ErrorKind::Output, path + ": PNG encoding failed");
  insert_text_chunks(encoded, texts);
  write_file_atomically(path, [&](std::ostream& out) { out.write(encoded.data(), static_cast<std::streamsize>(encoded.size())); });
}

}  // namespace perceiver
