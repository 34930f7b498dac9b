#include "media/flow_formats.h"

#include <stb_image.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "common/atomic_file.h"
#include "common/crc32.h"
#include "common/error.h"
#include "common/input_file.h"

// Defined (STBIWDEF) by the stb_image_write implementation in libstb, but stb_image_write.h does
// not declare it outside its implementation part. Returns a zlib stream allocated with malloc.
extern "C" unsigned char* stbi_zlib_compress(unsigned char* data, int data_len, int* out_len, int quality);

namespace perceiver {

namespace {

// ---- bytes ------------------------------------------------------------------------------------

void put_be16(uint8_t* p, uint32_t value) {
  p[0] = static_cast<uint8_t>(value >> 8);
  p[1] = static_cast<uint8_t>(value);
}
void put_be32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}
void put_le32(std::string& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}
uint32_t get_be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
uint32_t get_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[3]) << 24 | static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[1]) << 8 | p[0];
}
uint32_t get_le16(const uint8_t* p) { return static_cast<uint32_t>(p[1]) << 8 | p[0]; }
uint32_t float_bits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return bits;
}
float bits_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::string size_text(int64_t width, int64_t height) { return std::to_string(width) + "×" + std::to_string(height); }

// Encoders take fields built by the library, so a malformed one is a bug.
void check_field(const FlowField& flow, const char* what) {
  if (flow.width <= 0 || flow.height <= 0 || flow.width > INT32_MAX || flow.height > INT32_MAX ||
      flow.uv.size() != static_cast<size_t>(flow.width * flow.height * 2))
    fail(ErrorKind::Internal, std::string(what) + ": a " + size_text(flow.width, flow.height) + " flow field holds " +
                                  std::to_string(flow.uv.size()) + " values");
}

// width, height > 0 and below 2^31, so their product cannot overflow.
void check_pixel_limit(int64_t width, int64_t height, const std::string& name, const char* format,
                       const FloLimits& limits) {
  if (width > limits.max_pixels / height)
    fail(ErrorKind::Limit, name + ": the " + format + " header announces " + size_text(width, height) + " = " +
                               std::to_string(width * height) + " pixels, more than the limit of " +
                               std::to_string(limits.max_pixels) + " (--max-pixels)");
}

[[noreturn]] void wrong_size(const std::string& name, const char* format, int64_t width, int64_t height,
                             uint64_t expected, uint64_t actual) {
  fail(ErrorKind::Input, name + ": a " + size_text(width, height) + " " + format + " file must be " +
                             std::to_string(expected) + " bytes, this one is " + std::to_string(actual) +
                             (actual < expected ? " (truncated)" : " (trailing bytes)"));
}

// ---- KITTI 16-bit PNG -------------------------------------------------------------------------

constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr uint32_t kKittiOffset = 1u << 15;  // the sample of zero flow
constexpr double kKittiScale = 64;           // samples per pixel of flow
constexpr uint8_t kPngBitDepth = 16, kPngColourRgb = 2, kPngColourRgba = 6;
constexpr int kZlibQuality = 8;  // stb_image_write's own default for PNGs

// Length, type, data, and the CRC of type and data.
void append_chunk(std::string& out, const char type[4], const uint8_t* data, size_t size) {
  put_be32(out, static_cast<uint32_t>(size));
  const size_t type_at = out.size();
  out.append(type, 4);
  if (size > 0) out.append(reinterpret_cast<const char*>(data), size);
  put_be32(out, crc32(out.data() + type_at, 4 + size));
}

uint32_t kitti_sample(float value) {
  const double sample = std::round(static_cast<double>(value) * kKittiScale + kKittiOffset);
  return static_cast<uint32_t>(std::clamp(sample, 0.0, 65535.0));
}

struct MallocFree {
  void operator()(void* p) const { std::free(p); }
};
struct StbImageFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

// stb_image_write writes 8-bit PNGs only, so the 16-bit one is assembled here: scanlines of
// filter byte 0 and big-endian samples, deflated by stb's compressor.
std::string encode_kitti_png(const FlowField& flow) {
  check_field(flow, "encode_flow_file (KITTI PNG)");
  const size_t row_bytes = 1 + static_cast<size_t>(flow.width) * 6;
  if (row_bytes > static_cast<size_t>(INT_MAX) / static_cast<size_t>(flow.height))
    fail(ErrorKind::Limit, "a " + size_text(flow.width, flow.height) +
                               " flow field is too large for a KITTI PNG (over 2 GiB of samples)");
  std::vector<uint8_t> scanlines(row_bytes * static_cast<size_t>(flow.height));
  for (int64_t y = 0; y < flow.height; ++y) {
    uint8_t* p = scanlines.data() + static_cast<size_t>(y) * row_bytes;
    *p++ = 0;  // filter: none
    for (int64_t x = 0; x < flow.width; ++x, p += 6) {
      const float u = flow.u(y, x), v = flow.v(y, x);
      const bool known = flow_is_known(u, v);
      put_be16(p, known ? kitti_sample(u) : kKittiOffset);
      put_be16(p + 2, known ? kitti_sample(v) : kKittiOffset);
      put_be16(p + 4, known ? 1 : 0);
    }
  }
  int compressed_size = 0;
  const std::unique_ptr<unsigned char, MallocFree> compressed(
      stbi_zlib_compress(scanlines.data(), static_cast<int>(scanlines.size()), &compressed_size, kZlibQuality));
  if (!compressed) fail(ErrorKind::Limit, "out of memory compressing a " + size_text(flow.width, flow.height) + " KITTI PNG");

  std::string header;
  put_be32(header, static_cast<uint32_t>(flow.width));
  put_be32(header, static_cast<uint32_t>(flow.height));
  header += {static_cast<char>(kPngBitDepth), static_cast<char>(kPngColourRgb), 0, 0, 0};  // deflate, adaptive filters, no interlace
  std::string out(reinterpret_cast<const char*>(kPngSignature), sizeof kPngSignature);
  append_chunk(out, "IHDR", reinterpret_cast<const uint8_t*>(header.data()), header.size());
  append_chunk(out, "IDAT", compressed.get(), static_cast<size_t>(compressed_size));
  append_chunk(out, "IEND", nullptr, 0);
  return out;
}

std::string png_kind(uint32_t depth, uint32_t colour) {
  const char* names[] = {"grayscale", "colour type 1", "RGB", "palette", "grayscale+alpha", "colour type 5", "RGBA"};
  return std::to_string(depth) + "-bit " + (colour < 7 ? names[colour] : "colour type " + std::to_string(colour));
}

FlowField decode_kitti_png(const uint8_t* bytes, size_t size, const std::string& name, const FloLimits& limits) {
  if (size < sizeof kPngSignature || std::memcmp(bytes, kPngSignature, sizeof kPngSignature) != 0)
    fail(ErrorKind::Input, name + ": not a PNG file (no PNG signature), a .png flow file must be a KITTI 16-bit PNG");
  // IHDR is read here first: its size is checked against the limit before stb allocates anything
  // (stb refuses over 1 GiB on its own, with a less helpful message), and the sample format is
  // named in the refusal (stb would silently widen 8-bit samples).
  constexpr size_t kIhdrEnd = 8 + 8 + 13;
  if (size < kIhdrEnd + 4 || get_be32(bytes + 8) != 13 || std::memcmp(bytes + 12, "IHDR", 4) != 0)
    fail(ErrorKind::Input, name + ": corrupt PNG (it does not start with an IHDR chunk)");
  const uint32_t width = get_be32(bytes + 16), height = get_be32(bytes + 20);
  const uint32_t depth = bytes[24], colour = bytes[25];
  if (width == 0 || height == 0 || width > INT32_MAX || height > INT32_MAX)
    fail(ErrorKind::Input, name + ": invalid PNG header: size " + size_text(width, height));
  check_pixel_limit(width, height, name, "PNG", limits);
  if (depth != kPngBitDepth || (colour != kPngColourRgb && colour != kPngColourRgba))
    fail(ErrorKind::Input, name + ": not a KITTI flow PNG: " + png_kind(depth, colour) + ", KITTI flow PNGs are 16-bit RGB");
  if (size > static_cast<size_t>(INT_MAX))
    fail(ErrorKind::Limit, name + ": a PNG of " + std::to_string(size) + " bytes is more than the decoder takes (2 GiB)");

  int w = 0, h = 0, channels = 0;
  const std::unique_ptr<stbi_us, StbImageFree> samples(
      stbi_load_16_from_memory(bytes, static_cast<int>(size), &w, &h, &channels, 3));
  if (!samples) {
    const char* reason = stbi_failure_reason();
    fail(ErrorKind::Input, name + ": corrupt PNG (" + (reason && *reason ? reason : "unknown error") + ")");
  }
  if (static_cast<uint32_t>(w) != width || static_cast<uint32_t>(h) != height)
    fail(ErrorKind::Internal, name + ": the PNG decoder returned " + size_text(w, h) + " pixels for a " +
                                  size_text(width, height) + " header");
  FlowField flow(width, height);
  const stbi_us* in = samples.get();
  for (size_t i = 0; i < flow.uv.size(); i += 2, in += 3) {
    const bool valid = in[2] != 0;
    flow.uv[i] = valid ? static_cast<float>((in[0] - static_cast<double>(kKittiOffset)) / kKittiScale) : kUnknownFlowValue;
    flow.uv[i + 1] = valid ? static_cast<float>((in[1] - static_cast<double>(kKittiOffset)) / kKittiScale) : kUnknownFlowValue;
  }
  return flow;
}

// ---- NumPy .npy -------------------------------------------------------------------------------

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr size_t kNpyMagicBytes = 6;
constexpr size_t kNpyAlignment = 64;  // the data offset, per the format since NumPy 1.14 (before: 16)
constexpr const char* kNpyDtype = "<f4";

std::string encode_npy(const FlowField& flow) {
  check_field(flow, "encode_flow_file (.npy)");
  const std::string dict = "{'descr': '" + std::string(kNpyDtype) + "', 'fortran_order': False, 'shape': (" +
                           std::to_string(flow.height) + ", " + std::to_string(flow.width) + ", 2), }";
  // NumPy's own padding: 1 to 64 spaces, then '\n', so that magic, version, length and header end
  // on the alignment.
  const size_t prefix = kNpyMagicBytes + 2 + 2;
  const size_t padding = kNpyAlignment - (prefix + dict.size() + 1) % kNpyAlignment;
  const size_t header_bytes = dict.size() + padding + 1;  // < 2^16 for any 32-bit sizes
  std::string out(kNpyMagic, kNpyMagicBytes);
  out += {1, 0, static_cast<char>(header_bytes & 0xff), static_cast<char>(header_bytes >> 8)};
  out += dict;
  out.append(padding, ' ');
  out += '\n';
  out.reserve(out.size() + flow.uv.size() * 4);
  for (float value : flow.uv) put_le32(out, float_bits(value));
  return out;
}

// The header dictionary is a Python literal; only what NumPy writes there is understood: quoted
// strings, True / False and tuples of integers.
class NpyHeaderParser {
 public:
  NpyHeaderParser(const std::string& text, const std::string& name) : text_(text), name_(name) {}

  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;

  void parse() {
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (!consume('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        descr = string_literal();
        has_descr = true;
      } else if (key == "fortran_order") {
        fortran_order = boolean();
        has_order = true;
      } else if (key == "shape") {
        shape = tuple();
        has_shape = true;
      } else {
        malformed("unexpected key '" + key + "'");
      }
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != text_.size()) malformed("text after the dictionary");
    if (!has_descr || !has_order || !has_shape) malformed("'descr', 'fortran_order' or 'shape' missing");
  }

 private:
  [[noreturn]] void malformed(const std::string& what) const {
    fail(ErrorKind::Input, name_ + ": malformed .npy header (" + what + ")");
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) malformed(std::string("'") + c + "' expected");
  }
  std::string string_literal() {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) malformed("a quoted string expected");
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == std::string::npos) malformed("unterminated string");
    std::string value = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair<const char*, bool>{"True", true}, {"False", false}}) {
      if (text_.compare(pos_, std::strlen(word), word) == 0) {
        pos_ += std::strlen(word);
        return value;
      }
    }
    malformed("True or False expected");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> values;
    expect('(');
    while (!consume(')')) {
      skip_space();
      int64_t value = 0;
      size_t digits = 0;
      for (; pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_])); ++pos_, ++digits) {
        value = value * 10 + (text_[pos_] - '0');
        if (value > INT32_MAX) malformed("a dimension above 2^31");
      }
      if (digits == 0) malformed("an integer expected in the shape");
      values.push_back(value);
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return values;
  }

  const std::string& text_;
  const std::string& name_;
  size_t pos_ = 0;
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

FlowField decode_npy(const uint8_t* bytes, size_t size, const std::string& name, const FloLimits& limits) {
  if (size < kNpyMagicBytes + 4 || std::memcmp(bytes, kNpyMagic, kNpyMagicBytes) != 0)
    fail(ErrorKind::Input, name + ": not a .npy file (no \\x93NUMPY magic)");
  // Versions 2.0 and 3.0 only widen the header length to 32 bits (3.0: UTF-8 text).
  const uint32_t major = bytes[6], minor = bytes[7];
  if (major < 1 || major > 3 || minor != 0)
    fail(ErrorKind::Input, name + ": unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor));
  const size_t prefix = major == 1 ? kNpyMagicBytes + 4 : kNpyMagicBytes + 6;
  if (size < prefix) fail(ErrorKind::Input, name + ": truncated .npy header");
  const uint64_t header_bytes = major == 1 ? get_le16(bytes + 8) : get_le32(bytes + 8);
  if (header_bytes > size - prefix) fail(ErrorKind::Input, name + ": truncated .npy header");
  const std::string text(reinterpret_cast<const char*>(bytes + prefix), static_cast<size_t>(header_bytes));
  NpyHeaderParser header(text, name);
  header.parse();

  const std::string expected = "flow .npy files are '<f4' (float32) arrays of shape (H, W, 2) in C order";
  if (header.descr != kNpyDtype) fail(ErrorKind::Input, name + ": a .npy array of dtype '" + header.descr + "', " + expected);
  if (header.fortran_order) fail(ErrorKind::Input, name + ": a .npy array in Fortran order, " + expected);
  if (header.shape.size() != 3 || header.shape[2] != 2)
    fail(ErrorKind::Input, name + ": a .npy array of shape " + shape_text(header.shape) + ", " + expected);
  const int64_t height = header.shape[0], width = header.shape[1];
  if (width == 0 || height == 0) fail(ErrorKind::Input, name + ": an empty .npy flow field, shape " + shape_text(header.shape));
  check_pixel_limit(width, height, name, ".npy", limits);

  const uint64_t data_at = prefix + header_bytes, expected_size = data_at + 8 * static_cast<uint64_t>(width * height);
  if (size != expected_size) wrong_size(name, ".npy", width, height, expected_size, size);
  FlowField flow(width, height);
  const uint8_t* data = bytes + data_at;
  for (size_t i = 0; i < flow.uv.size(); ++i) flow.uv[i] = bits_float(get_le32(data + 4 * i));
  return flow;
}

// ---- PFM --------------------------------------------------------------------------------------

constexpr int64_t kPfmChannels = 3;  // "PF": u, v and a third channel that FlyingThings3D leaves 0

bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// The next whitespace-delimited token at or after `pos` (which moves past it).
std::string pfm_token(const uint8_t* bytes, size_t size, size_t& pos, const std::string& name) {
  while (pos < size && is_space(bytes[pos])) ++pos;
  const size_t start = pos;
  while (pos < size && !is_space(bytes[pos]) && pos - start < 64) ++pos;
  if (pos == start || pos >= size) fail(ErrorKind::Input, name + ": truncated PFM header");
  if (!is_space(bytes[pos])) fail(ErrorKind::Input, name + ": malformed PFM header");
  return std::string(reinterpret_cast<const char*>(bytes + start), pos - start);
}

int64_t pfm_dimension(const std::string& token, const std::string& name) {
  int64_t value = 0;
  for (char c : token) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || value > INT32_MAX / 10)
      fail(ErrorKind::Input, name + ": invalid PFM size '" + token + "'");
    value = value * 10 + (c - '0');
  }
  if (value <= 0 || value > INT32_MAX) fail(ErrorKind::Input, name + ": invalid PFM size '" + token + "'");
  return value;
}

FlowField decode_pfm(const uint8_t* bytes, size_t size, const std::string& name, const FloLimits& limits) {
  if (size < 3 || bytes[0] != 'P' || (bytes[1] != 'F' && bytes[1] != 'f') || !is_space(bytes[2]))
    fail(ErrorKind::Input, name + ": not a PFM file (it does not start with \"PF\")");
  if (bytes[1] == 'f')
    fail(ErrorKind::Input, name + ": a one-channel \"Pf\" PFM, flow PFMs have three channels (\"PF\": u, v, unused)");
  size_t pos = 2;
  const int64_t width = pfm_dimension(pfm_token(bytes, size, pos, name), name);
  const int64_t height = pfm_dimension(pfm_token(bytes, size, pos, name), name);
  const std::string scale_text = pfm_token(bytes, size, pos, name);
  char* end = nullptr;
  const double scale = std::strtod(scale_text.c_str(), &end);
  if (end != scale_text.c_str() + scale_text.size() || !std::isfinite(scale) || scale == 0)
    fail(ErrorKind::Input, name + ": invalid PFM scale '" + scale_text + "' (its sign gives the byte order)");
  const bool little = scale < 0;
  ++pos;  // the one whitespace character that ends the header
  check_pixel_limit(width, height, name, "PFM", limits);

  const uint64_t expected_size = pos + 4 * kPfmChannels * static_cast<uint64_t>(width * height);
  if (size != expected_size) wrong_size(name, "PFM", width, height, expected_size, size);
  FlowField flow(width, height);
  const size_t row_bytes = static_cast<size_t>(4 * kPfmChannels * width);
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* in = bytes + pos + static_cast<size_t>(height - 1 - y) * row_bytes;  // stored bottom to top
    float* out = flow.uv.data() + static_cast<size_t>(y * width * 2);
    for (int64_t x = 0; x < width; ++x, in += 4 * kPfmChannels, out += 2) {
      out[0] = bits_float(little ? get_le32(in) : get_be32(in));
      out[1] = bits_float(little ? get_le32(in + 4) : get_be32(in + 4));
    }
  }
  return flow;
}

// ---- files ------------------------------------------------------------------------------------

// The most a file of max_pixels pixels can need: PFM's 12 bytes a pixel is the largest of the
// formats (a KITTI PNG stores 6 bytes and a filter byte a row, even uncompressed), plus headers.
constexpr uint64_t kMaxBytesPerPixel = 12;
constexpr uint64_t kHeaderSlackBytes = 1 << 20;  // headers, PNG ancillary chunks, deflate overhead

uint64_t file_byte_limit(const FloLimits& limits) {
  if (limits.max_pixels <= 0) return kHeaderSlackBytes;
  const uint64_t pixels = static_cast<uint64_t>(limits.max_pixels);
  if (pixels > (UINT64_MAX - kHeaderSlackBytes) / kMaxBytesPerPixel) return UINT64_MAX;
  return pixels * kMaxBytesPerPixel + kHeaderSlackBytes;
}

}  // namespace

FlowFileFormat flow_format_of(const std::string& path) {
  const size_t dot = path.rfind('.'), slash = path.rfind('/');
  std::string extension = dot == std::string::npos || (slash != std::string::npos && dot < slash) ? "" : path.substr(dot);
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // No extension at all (an -o like "out" or /dev/stdout): Middlebury .flo, the tools' format
  // before the others were added.
  if (extension == ".flo" || extension.empty()) return FlowFileFormat::Flo;
  if (extension == ".png") return FlowFileFormat::KittiPng;
  if (extension == ".npy") return FlowFileFormat::Npy;
  if (extension == ".pfm") return FlowFileFormat::Pfm;
  fail(ErrorKind::Usage, path + ": unknown flow file extension, expected .flo, .png (KITTI 16-bit), .npy or .pfm");
}

FlowFileFormat flow_output_format_of(const std::string& path) {
  const FlowFileFormat format = flow_format_of(path);
  if (format == FlowFileFormat::Pfm)
    fail(ErrorKind::Usage, path + ": .pfm flow files are read, not written; write .flo, .png (KITTI 16-bit) or .npy");
  return format;
}

std::string encode_flow_file(FlowFileFormat format, const FlowField& flow) {
  switch (format) {
    case FlowFileFormat::Flo:
      return encode_flo(flow);
    case FlowFileFormat::KittiPng:
      return encode_kitti_png(flow);
    case FlowFileFormat::Npy:
      return encode_npy(flow);
    case FlowFileFormat::Pfm:
      break;
  }
  fail(ErrorKind::Internal, "encode_flow_file: PFM flow files are not written");
}

void write_flow_file(const std::string& path, const FlowField& flow) {
  const std::string bytes = encode_flow_file(flow_output_format_of(path), flow);
  write_file_atomically(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

FlowField decode_flow_file(FlowFileFormat format, const uint8_t* bytes, size_t size, const std::string& name,
                           const FloLimits& limits) {
  switch (format) {
    case FlowFileFormat::Flo:
      return decode_flo(bytes, size, name, limits);
    case FlowFileFormat::KittiPng:
      return decode_kitti_png(bytes, size, name, limits);
    case FlowFileFormat::Npy:
      return decode_npy(bytes, size, name, limits);
    case FlowFileFormat::Pfm:
      return decode_pfm(bytes, size, name, limits);
  }
  fail(ErrorKind::Internal, name + ": unknown flow file format");
}

FlowField read_flow_file(const std::string& path, const FloLimits& limits) {
  const FlowFileFormat format = flow_format_of(path);
  const std::string bytes = read_input_file(path, InputFileLimit{file_byte_limit(limits), "--max-pixels"});
  return decode_flow_file(format, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, limits);
}

}  // namespace perceiver
