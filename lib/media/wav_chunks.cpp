#include "media/wav_chunks.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace perceiver {

namespace {

uint32_t read_u32(const uint8_t* bytes, bool big_endian) {
  return big_endian ? (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | bytes[3]
                    : (uint32_t{bytes[3]} << 24) | (uint32_t{bytes[2]} << 16) | (uint32_t{bytes[1]} << 8) | bytes[0];
}

}  // namespace

void check_wav_list_chunks(const ByteReader& read, uint64_t size, const std::string& name) {
  uint8_t header[12];
  if (size < 12 || read(0, header, 12) != 12) return;
  const bool riff = std::memcmp(header, "RIFF", 4) == 0 || std::memcmp(header, "RF64", 4) == 0;
  const bool rifx = std::memcmp(header, "RIFX", 4) == 0;
  if ((!riff && !rifx) || std::memcmp(header + 8, "WAVE", 4) != 0) return;

  // Top-level chunks: [id, u32 size, body, pad byte to even]. A size past the end (a truncated
  // or streamed 'data' chunk, RF64's 0xFFFFFFFF) ends the walk: nothing after it can be reached.
  uint64_t position = 12;
  uint8_t chunk[8];
  while (position + 8 <= size && read(position, chunk, 8) == 8) {
    const uint64_t length = read_u32(chunk + 4, rifx);
    const uint64_t body = position + 8;
    if (std::memcmp(chunk, "LIST", 4) == 0 && length >= 4) {
      // libsndfile walks a LIST that claims more than the file up to the file's end.
      const uint64_t end = body + std::min(length, size - body);
      uint64_t sub = body + 4;  // after the list type ('INFO', 'adtl')
      uint8_t sub_header[8];
      while (sub + 8 <= end && read(sub, sub_header, 8) == 8) {
        const uint64_t sub_length = read_u32(sub_header + 4, rifx);
        if (sub_length > end - (sub + 8))
          fail(ErrorKind::Input, name + ": cannot read audio (malformed WAV: a LIST sub-chunk at byte " +
                                     std::to_string(sub) + " declares " + std::to_string(sub_length) +
                                     " bytes, more than its chunk holds)");
        sub += 8 + sub_length + (sub_length & 1);
      }
    }
    if (length > size - body) break;
    position = body + length + (length & 1);
  }
}

}  // namespace perceiver
