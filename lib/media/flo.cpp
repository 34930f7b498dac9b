#include "media/flo.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/error.h"

namespace perceiver {

namespace {

constexpr size_t kHeaderBytes = 12;

// Explicit little-endian byte order, whatever the host.
void put_u32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
uint32_t get_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
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

}  // namespace

bool flow_is_known(float u, float v) {
  return std::isfinite(u) && std::isfinite(v) && std::fabs(u) <= kUnknownFlowThreshold &&
         std::fabs(v) <= kUnknownFlowThreshold;
}

std::string encode_flo(const FlowField& flow) {
  if (flow.width <= 0 || flow.height <= 0 || flow.width > INT32_MAX || flow.height > INT32_MAX ||
      flow.uv.size() != static_cast<size_t>(flow.width * flow.height * 2))
    fail(ErrorKind::Internal, "encode_flo: a " + size_text(flow.width, flow.height) + " flow field holds " +
                                  std::to_string(flow.uv.size()) + " values");
  std::string out;
  out.reserve(kHeaderBytes + flow.uv.size() * 4);
  put_u32(out, float_bits(kFloMagic));
  put_u32(out, static_cast<uint32_t>(flow.width));
  put_u32(out, static_cast<uint32_t>(flow.height));
  for (float value : flow.uv) put_u32(out, float_bits(value));
  return out;
}

void write_flo(const std::string& path, const FlowField& flow) {
  const std::string bytes = encode_flo(flow);
  write_file_atomically(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

namespace {

struct FloHeader {
  int32_t width, height;
  uint64_t file_bytes;  // what the whole file must weigh
};

// Magic, positive sizes and the pixel limit, from the first 12 bytes.
FloHeader parse_header(const uint8_t* bytes, size_t size, const std::string& name, const FloLimits& limits) {
  if (size < kHeaderBytes)
    fail(ErrorKind::Input, name + ": not a .flo file (" + std::to_string(size) + " bytes, shorter than the 12-byte header)");
  if (get_u32(bytes) != float_bits(kFloMagic))
    fail(ErrorKind::Input, name + ": not a .flo file (the magic number is not 202021.25 / \"PIEH\")");
  FloHeader header{static_cast<int32_t>(get_u32(bytes + 4)), static_cast<int32_t>(get_u32(bytes + 8)), 0};
  if (header.width <= 0 || header.height <= 0)
    fail(ErrorKind::Input, name + ": invalid .flo header: size " + size_text(header.width, header.height));
  const int64_t pixels = static_cast<int64_t>(header.width) * header.height;  // < 2^62, no overflow
  if (pixels > limits.max_pixels)
    fail(ErrorKind::Limit, name + ": the .flo header announces " + size_text(header.width, header.height) + " = " +
                               std::to_string(pixels) + " pixels, more than the limit of " +
                               std::to_string(limits.max_pixels) + " (--max-pixels)");
  header.file_bytes = kHeaderBytes + 8 * static_cast<uint64_t>(pixels);
  return header;
}

void check_file_size(const FloHeader& header, uint64_t size, const std::string& name) {
  if (size != header.file_bytes)
    fail(ErrorKind::Input, name + ": a " + size_text(header.width, header.height) + " .flo file must be " +
                               std::to_string(header.file_bytes) + " bytes, this one is " + std::to_string(size) +
                               (size < header.file_bytes ? " (truncated)" : " (trailing bytes)"));
}

FlowField decode_values(const FloHeader& header, const uint8_t* values) {
  FlowField flow(header.width, header.height);
  for (size_t i = 0; i < flow.uv.size(); ++i) flow.uv[i] = bits_float(get_u32(values + 4 * i));
  return flow;
}

}  // namespace

FlowField decode_flo(const uint8_t* bytes, size_t size, const std::string& name, const FloLimits& limits) {
  const FloHeader header = parse_header(bytes, size, name, limits);
  check_file_size(header, size, name);
  return decode_values(header, bytes + kHeaderBytes);
}

FlowField read_flo(const std::string& path, const FloLimits& limits) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) fail(ErrorKind::Input, path + ": cannot open the file");
  const uint64_t file_size = std::filesystem::file_size(path, error);
  if (error) fail(ErrorKind::Input, path + ": cannot open the file (" + error.message() + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::Input, path + ": cannot open the file");
  // The header first, so that a wrong or absurd one is refused before anything is allocated.
  uint8_t head[kHeaderBytes] = {};
  in.read(reinterpret_cast<char*>(head), kHeaderBytes);
  const FloHeader header = parse_header(head, static_cast<size_t>(in.gcount()), path, limits);
  check_file_size(header, file_size, path);
  std::vector<uint8_t> values(static_cast<size_t>(header.file_bytes - kHeaderBytes));
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(values.size()));
  if (static_cast<size_t>(in.gcount()) != values.size()) fail(ErrorKind::Input, path + ": read failed (truncated while reading?)");
  return decode_values(header, values.data());
}

}  // namespace perceiver
