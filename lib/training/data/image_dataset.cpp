#include "training/data/image_dataset.h"

#include <stb_image.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "checkpoint/zip_archive.h"
#include "common/crc32.h"
#include "common/error.h"

namespace perceiver::training {

namespace fs = std::filesystem;

namespace {

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

uint32_t read_be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

uint32_t read_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}


std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::Input, path + ": cannot open the file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(ErrorKind::Input, path + ": cannot read the file");
  return bytes;
}

bool is_gzip(const std::vector<uint8_t>& bytes) { return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b; }

// An IDX file's dimensions and data, checked against its magic and length.
struct IdxArray {
  std::vector<uint64_t> dims;
  const uint8_t* data = nullptr;  // dims' product bytes, row-major
};

// `magic` = 0x0000 08 nd: unsigned bytes, nd dimensions. The data must be exactly the dimensions'
// product long; the product is checked against the file's length before anything is allocated.
IdxArray parse_idx(const std::vector<uint8_t>& bytes, uint32_t magic, const std::string& path, const char* what) {
  if (bytes.size() < 4) fail(ErrorKind::Input, path + ": too short for an IDX file (" + std::to_string(bytes.size()) + " bytes)");
  const uint32_t found = read_be32(bytes.data());
  if (found != magic)
    fail(ErrorKind::Input, path + ": not an IDX " + what + " file (magic " + hex32(found) + ", expected " + hex32(magic) + ")");
  const size_t rank = magic & 0xFF;
  const size_t header = 4 + 4 * rank;
  if (bytes.size() < header) fail(ErrorKind::Input, path + ": IDX header truncated (" + std::to_string(bytes.size()) + " bytes)");

  IdxArray array;
  const uint64_t available = bytes.size() - header;
  uint64_t product = 1;
  std::string shape;
  for (size_t d = 0; d < rank; ++d) {
    const uint64_t dim = read_be32(bytes.data() + 4 + 4 * d);
    array.dims.push_back(dim);
    shape += (d ? " x " : "") + std::to_string(dim);
    if (dim != 0 && product > UINT64_MAX / dim) product = UINT64_MAX;  // overflow: stays "too many"
    else if (product != UINT64_MAX) product *= dim;
  }
  // Checked before anything is allocated: the sizes must account for the file's bytes exactly.
  if (product != available) {
    const std::string need = product == UINT64_MAX ? "more than 2^64" : std::to_string(product);
    fail(ErrorKind::Input, path + ": IDX sizes " + shape + " need " + need + " bytes of data, the file has " +
                               std::to_string(available));
  }
  array.data = bytes.data() + header;
  return array;
}

// The file's bytes, gunzipped when it starts with the gzip magic.
std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  return is_gzip(bytes) ? gunzip(bytes, path) : bytes;
}

std::vector<std::string> sorted_entries(const std::string& folder, bool want_folders) {
  std::vector<std::string> paths;
  std::error_code error;
  for (fs::directory_iterator it(folder, error); !error && it != fs::directory_iterator(); it.increment(error)) {
    std::error_code type_error;
    if (want_folders ? it->is_directory(type_error) : it->is_regular_file(type_error)) paths.push_back(it->path().string());
  }
  if (error) fail(ErrorKind::Input, folder + ": cannot list the folder (" + error.message() + ")");
  std::sort(paths.begin(), paths.end());
  return paths;
}

void set_common_size(ImageDataset& data) {
  data.height = data.images.empty() ? 0 : data.images[0].height;
  data.width = data.images.empty() ? 0 : data.images[0].width;
  for (const Image& image : data.images) {
    if (image.height != data.height || image.width != data.width) {
      data.height = data.width = 0;
      return;
    }
  }
}

}  // namespace

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& gz, const std::string& name) {
  const auto bad = [&](const std::string& what) { fail(ErrorKind::Input, name + ": bad gzip data (" + what + ")"); };
  // RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS, optional fields, deflate data, CRC32 and ISIZE.
  if (gz.size() < 18) bad("shorter than a gzip header and trailer");
  if (!is_gzip(gz)) bad("no gzip magic");
  if (gz[2] != 8) bad("compression method " + std::to_string(gz[2]) + ", not deflate");
  const uint8_t flags = gz[3];
  constexpr uint8_t kHeaderCrc = 2, kExtra = 4, kName = 8, kComment = 16, kReserved = 0xE0;
  if (flags & kReserved) bad("reserved header flags set");
  const size_t end = gz.size() - 8;  // where the trailer starts
  size_t at = 10;
  if (flags & kExtra) {
    if (end - at < 2) bad("extra field truncated");
    const size_t length = size_t(gz[at]) | size_t(gz[at + 1]) << 8;
    at += 2;
    if (end - at < length) bad("extra field truncated");
    at += length;
  }
  for (const uint8_t field : {kName, kComment}) {
    if (!(flags & field)) continue;
    while (at < end && gz[at] != 0) ++at;
    if (at == end) bad(field == kName ? "file name not terminated" : "comment not terminated");
    ++at;
  }
  if (flags & kHeaderCrc) {
    if (end - at < 2) bad("header CRC truncated");
    at += 2;
  }
  const uint32_t want_crc = read_le32(gz.data() + end), want_size = read_le32(gz.data() + end + 4);
  // stb's decoder wants up to 2 bytes of lookahead past the last code and reports "bad huffman
  // code" without them, so it is given the trailer too (it stops at the final block anyway).
  const size_t deflate_size = gz.size() - at;
  // stb counts bytes in int; deflate cannot expand data more than 1032-fold, so a larger ISIZE is
  // a lie, caught before allocating it.
  if (deflate_size > INT_MAX || want_size > INT_MAX) bad("larger than 2 GiB, which this reader does not support");
  if (uint64_t(want_size) > (uint64_t(deflate_size) + 1) * 1032) bad("ISIZE trailer larger than the data can hold");

  std::vector<uint8_t> out(std::max<size_t>(want_size, 1));
  const int decoded = stbi_zlib_decode_noheader_buffer(reinterpret_cast<char*>(out.data()), static_cast<int>(want_size),
                                                       reinterpret_cast<const char*>(gz.data() + at),
                                                       static_cast<int>(deflate_size));
  if (decoded < 0) {
    const char* reason = stbi_failure_reason();
    bad(std::string("deflate stream corrupt or longer than its ISIZE trailer: ") + (reason ? reason : "unknown"));
  }
  out.resize(static_cast<size_t>(decoded));
  if (static_cast<uint32_t>(decoded) != want_size)
    bad("ISIZE trailer says " + std::to_string(want_size) + " bytes, the data gives " + std::to_string(decoded));
  if (crc32(out.data(), out.size()) != want_crc)  // gzip and zip share the CRC-32
    bad("CRC-32 mismatch");
  return out;
}

ImageDataset load_idx(const std::string& images_path, const std::string& labels_path, int64_t limit) {
  if (limit < 0) fail(ErrorKind::Usage, "load_idx: limit must not be negative");
  const std::vector<uint8_t> image_bytes = read_maybe_gzip(images_path);
  const IdxArray images = parse_idx(image_bytes, 0x00000803, images_path, "image");
  const std::vector<uint8_t> label_bytes = read_maybe_gzip(labels_path);
  const IdxArray labels = parse_idx(label_bytes, 0x00000801, labels_path, "label");

  const uint64_t count = images.dims[0], rows = images.dims[1], cols = images.dims[2];
  if (count == 0) fail(ErrorKind::Input, images_path + ": no images");
  if (rows == 0 || cols == 0) fail(ErrorKind::Input, images_path + ": images of size " + std::to_string(rows) + " x " + std::to_string(cols));
  if (labels.dims[0] != count)
    fail(ErrorKind::Input, labels_path + ": " + std::to_string(labels.dims[0]) + " labels, but " + images_path + " has " +
                               std::to_string(count) + " images");

  const uint64_t kept = limit > 0 ? std::min<uint64_t>(count, static_cast<uint64_t>(limit)) : count;
  const size_t pixels = static_cast<size_t>(rows * cols);
  ImageDataset data;
  data.height = static_cast<int64_t>(rows);
  data.width = static_cast<int64_t>(cols);
  data.images.resize(kept);
  data.labels.resize(kept);
  int64_t largest_label = 0;
  for (size_t i = 0; i < kept; ++i) {
    Image& image = data.images[i];
    image.height = data.height;
    image.width = data.width;
    image.rgb.resize(pixels * 3);
    const uint8_t* grey = images.data + i * pixels;
    for (size_t p = 0; p < pixels; ++p) image.rgb[3 * p] = image.rgb[3 * p + 1] = image.rgb[3 * p + 2] = grey[p];
    data.labels[i] = labels.data[i];
    largest_label = std::max(largest_label, data.labels[i]);
  }
  for (int64_t k = 0; k <= largest_label; ++k) data.class_names.push_back(std::to_string(k));
  return data;
}

ImageDataset load_image_folder(const std::string& root, const ImageLimits& limits) {
  std::error_code error;
  if (!fs::is_directory(root, error)) fail(ErrorKind::Input, root + ": not a folder");
  const std::vector<std::string> class_folders = sorted_entries(root, true);
  if (class_folders.empty()) fail(ErrorKind::Input, root + ": no class folders");

  ImageDataset data;
  for (size_t label = 0; label < class_folders.size(); ++label) {
    data.class_names.push_back(fs::path(class_folders[label]).filename().string());
    for (const std::string& path : sorted_entries(class_folders[label], false)) {
      try {
        data.images.push_back(load_image(path, limits));
        data.labels.push_back(static_cast<int64_t>(label));
      } catch (const Error& e) {
        // Unreadable, undecodable or too large: one bad file should not stop a whole dataset.
        if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit) throw;
        data.skipped.push_back(e.what());
      }
    }
  }
  if (data.images.empty()) fail(ErrorKind::Input, root + ": no readable image in the class folders");
  set_common_size(data);
  return data;
}

Tensor pixel_batch(const ImageDataset& data, const std::vector<int64_t>& indices, const ImageProcessorConfig& config) {
  std::vector<Image> batch;
  batch.reserve(indices.size());
  const auto size = static_cast<int64_t>(data.images.size());
  for (const int64_t index : indices) {
    if (index < 0 || index >= size)
      fail(ErrorKind::Internal, "pixel_batch: example " + std::to_string(index) + " outside the dataset of " + std::to_string(size));
    batch.push_back(data.images[static_cast<size_t>(index)]);
  }
  return preprocess_images(batch, config);  // [B, 3, H, W]
}

}  // namespace perceiver::training
