#include "media/gif_decoder.h"

#include <array>
#include <cstring>
#include <vector>

#include "media/image_codec.h"

namespace perceiver {

namespace {

constexpr int kMaxCodeBits = 12;
constexpr int kTableSize = 1 << kMaxCodeBits;

// The records before the first frame's pixel data.
struct GifFrame {
  int64_t width = 0, height = 0;       // of the image: the screen grown to hold the frame
  int64_t x = 0, y = 0, w = 0, h = 0;  // the frame
  bool interlaced = false;
  int transparency = -1;             // index, or −1
  const uint8_t* palette = nullptr;  // local table, else global, else none
  size_t palette_entries = 0;
  int min_code_bits = 0;
  size_t data = 0;  // offset of the first data sub-block
};

uint32_t le16(const uint8_t* p) { return p[0] | uint32_t(p[1]) << 8; }

GifFrame read_records(const uint8_t* bytes, size_t size, const std::string& name) {
  const auto truncated = [&] { refuse_image(name, "truncated GIF header"); };
  if (size < 13 || (std::memcmp(bytes, "GIF87a", 6) != 0 && std::memcmp(bytes, "GIF89a", 6) != 0))
    refuse_image(name, "not a GIF file");
  GifFrame frame;
  frame.width = le16(bytes + 6);
  frame.height = le16(bytes + 8);
  size_t pos = 13;
  const uint8_t* global = nullptr;
  size_t global_entries = 0;
  if (bytes[10] & 0x80) {
    global_entries = size_t{2} << (bytes[10] & 7);
    if (size - pos < global_entries * 3) truncated();
    global = bytes + pos;
    pos += global_entries * 3;
  }
  // Sub-blocks: a length byte, that many bytes; a zero length ends the sequence.
  const auto skip_blocks = [&] {
    while (true) {
      if (pos >= size) truncated();
      const size_t length = bytes[pos++];
      if (length == 0) return;
      if (size - pos < length) truncated();
      pos += length;
    }
  };
  while (true) {
    if (pos >= size) refuse_image(name, "no image in the GIF file");
    const uint8_t kind = bytes[pos++];
    if (kind == ';') refuse_image(name, "no image in the GIF file");
    if (kind == '!') {  // extension: a label, then sub-blocks
      if (pos >= size) truncated();
      const uint8_t label = bytes[pos++];
      if (label == 0xF9) {  // graphic control: flags, delay (2 bytes), transparent index
        // Pillow reads the fields from the first sub-block without checking its length: a
        // shorter one fails there, and the file is not opened.
        const size_t length = pos < size ? bytes[pos] : 0;
        if (length < 3 || size - pos - 1 < length || ((bytes[pos + 1] & 1) && length < 4))
          refuse_image(name, "corrupt graphic control extension");
        if (bytes[pos + 1] & 1) frame.transparency = bytes[pos + 4];
      } else if (label == 0xFF) {  // application: Pillow reads the first sub-block (and
        // NETSCAPE2.0's second) unchecked as well
        const size_t length = pos < size ? bytes[pos] : 0;
        if (length == 0 || size - pos - 1 < length) refuse_image(name, "corrupt application extension");
        const size_t second = pos + 1 + length;
        if (length >= 11 && std::memcmp(bytes + pos + 1, "NETSCAPE2.0", 11) == 0 &&
            (second >= size || bytes[second] == 0))
          refuse_image(name, "corrupt NETSCAPE2.0 extension");
      }
      skip_blocks();
      continue;
    }
    if (kind != ',') continue;  // Pillow steps over bytes that start no record
    if (size - pos < 9) truncated();
    const uint8_t* descriptor = bytes + pos;
    pos += 9;
    frame.x = le16(descriptor);
    frame.y = le16(descriptor + 2);
    frame.w = le16(descriptor + 4);
    frame.h = le16(descriptor + 6);
    frame.interlaced = (descriptor[8] & 0x40) != 0;
    frame.palette = global;
    frame.palette_entries = global_entries;
    if (descriptor[8] & 0x80) {
      frame.palette_entries = size_t{2} << (descriptor[8] & 7);
      if (size - pos < frame.palette_entries * 3) truncated();
      frame.palette = bytes + pos;
      pos += frame.palette_entries * 3;
    }
    if (pos >= size) truncated();
    frame.min_code_bits = bytes[pos++];
    if (frame.min_code_bits > kMaxCodeBits)
      refuse_image(name, "LZW minimum code size " + std::to_string(frame.min_code_bits) + " is over 12");
    frame.data = pos;
    frame.width = std::max(frame.width, frame.x + frame.w);
    frame.height = std::max(frame.height, frame.y + frame.h);
    if (frame.w == 0 || frame.h == 0) refuse_image(name, "the first frame is empty");
    return frame;
  }
}

// The LZW codes of the data sub-blocks, least significant bit first. A sub-block is read only
// when it is all there (as Pillow reads them), so a cut file ends at its last whole block.
class CodeReader {
 public:
  CodeReader(const uint8_t* bytes, size_t size, size_t pos) : bytes_(bytes), size_(size), pos_(pos) {}
  // False at the end of the data.
  bool read(int bits, int& code) {
    while (held_ < bits) {
      if (block_left_ == 0) {
        if (pos_ >= size_) return false;
        const size_t length = bytes_[pos_];
        if (length == 0 || size_ - pos_ - 1 < length) return false;
        ++pos_;
        block_left_ = length;
      }
      buffer_ |= uint32_t(bytes_[pos_++]) << held_;
      held_ += 8;
      --block_left_;
    }
    code = static_cast<int>(buffer_ & ((1u << bits) - 1));
    buffer_ >>= bits;
    held_ -= bits;
    return true;
  }

 private:
  const uint8_t* bytes_;
  size_t size_, pos_;
  size_t block_left_ = 0;
  uint32_t buffer_ = 0;
  int held_ = 0;
};

// Where the frame's pixels go, in file order: rows top to bottom, or the interlace passes
// (rows 0, 8, 16, … then 4, 12, … then 2, 6, … then 1, 3, …).
class FrameCursor {
 public:
  FrameCursor(std::vector<uint8_t>& canvas, const GifFrame& frame)
      : canvas_(canvas), frame_(frame), step_(frame.interlaced ? 8 : 1) {}
  bool done() const { return done_; }
  void put(uint8_t index) {
    canvas_[static_cast<size_t>((frame_.y + y_) * frame_.width + frame_.x + x_)] = index;
    if (++x_ < frame_.w) return;
    x_ = 0;
    y_ += step_;
    while (y_ >= frame_.h) {
      if (!frame_.interlaced || pass_ == 3) {
        done_ = true;
        return;
      }
      static constexpr int64_t kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
      ++pass_;
      y_ = kStart[pass_];
      step_ = kStep[pass_];
    }
  }

 private:
  std::vector<uint8_t>& canvas_;
  const GifFrame& frame_;
  int64_t x_ = 0, y_ = 0, step_;
  int pass_ = 0;
  bool done_ = false;
};

void decode_lzw(const uint8_t* bytes, size_t size, const GifFrame& frame, std::vector<uint8_t>& canvas,
                const std::string& name) {
  const int clear = 1 << frame.min_code_bits, end = clear + 1;
  std::vector<uint16_t> prefix(kTableSize);
  std::vector<uint8_t> suffix(kTableSize);
  std::array<uint8_t, kTableSize + 1> string{};  // one code's pixels, filled from the back
  CodeReader reader(bytes, size, frame.data);
  FrameCursor cursor(canvas, frame);
  int bits = frame.min_code_bits + 1, next = clear + 2;
  int previous = -1;           // the previous code; −1 right after a clear code (and at the start)
  uint8_t previous_first = 0;  // the first pixel of the previous code's string
  while (!cursor.done()) {
    int code;
    if (!reader.read(bits, code)) refuse_image(name, "truncated GIF image data");
    if (code == clear) {
      bits = frame.min_code_bits + 1;
      next = clear + 2;
      previous = -1;
      continue;
    }
    if (code == end) refuse_image(name, "truncated GIF image data (end code before the last pixel)");
    size_t start = string.size();
    if (previous < 0) {
      if (code > clear) refuse_image(name, "corrupt GIF image data (invalid first LZW code)");
      string[--start] = static_cast<uint8_t>(code);
    } else {
      if (code > next) refuse_image(name, "corrupt GIF image data (invalid LZW code)");
      int c = code;
      if (code == next) {  // the string being defined: the previous one plus its first pixel
        string[--start] = previous_first;
        c = previous;
      }
      while (c >= clear) {
        if (start == 0) refuse_image(name, "corrupt GIF image data (LZW string too long)");
        string[--start] = suffix[static_cast<size_t>(c)];
        c = prefix[static_cast<size_t>(c)];
      }
      string[--start] = static_cast<uint8_t>(c);
      if (next < kTableSize) {  // a full table is used as it is until the next clear code
        prefix[static_cast<size_t>(next)] = static_cast<uint16_t>(previous);
        suffix[static_cast<size_t>(next)] = string[start];
        if (next == (1 << bits) - 1 && bits < kMaxCodeBits) ++bits;
        ++next;
      }
    }
    previous = code;
    previous_first = string[start];
    for (size_t i = start; i < string.size() && !cursor.done(); ++i) cursor.put(string[i]);
  }
}

}  // namespace

void gif_size(const uint8_t* bytes, size_t size, const std::string& name, int64_t& width, int64_t& height) {
  const GifFrame frame = read_records(bytes, size, name);
  width = frame.width;
  height = frame.height;
}

Image decode_gif(const uint8_t* bytes, size_t size, const std::string& name, const ImageLimits& limits) {
  const GifFrame frame = read_records(bytes, size, name);
  check_pixel_limit(frame.width, frame.height, name, limits);
  const size_t count = static_cast<size_t>(frame.width * frame.height);
  std::vector<uint8_t> canvas(count, static_cast<uint8_t>(frame.transparency >= 0 ? frame.transparency : 0));
  decode_lzw(bytes, size, frame, canvas, name);

  // Pillow's palette: the table's entries, then its default grey ramp up to 256.
  uint8_t palette[256][3];
  for (int i = 0; i < 256; ++i) palette[i][0] = palette[i][1] = palette[i][2] = static_cast<uint8_t>(i);
  for (size_t i = 0; i < frame.palette_entries && i < 256; ++i) std::memcpy(palette[i], frame.palette + i * 3, 3);
  Image image;
  image.width = frame.width;
  image.height = frame.height;
  image.rgb.resize(count * 3);
  for (size_t i = 0; i < count; ++i) std::memcpy(&image.rgb[i * 3], palette[canvas[i]], 3);
  return image;
}

}  // namespace perceiver
