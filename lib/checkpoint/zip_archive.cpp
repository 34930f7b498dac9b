#include "checkpoint/zip_archive.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "checkpoint/pickle_machine.h"  // quote_for_message

namespace perceiver {

namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr size_t kLocalHeaderBytes = 30;
constexpr size_t kCentralHeaderBytes = 46;
constexpr size_t kEndBytes = 22;
constexpr size_t kZip64EndBytes = 56;
constexpr size_t kZip64LocatorBytes = 20;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr uint32_t kSaturated32 = 0xffffffffu;
constexpr uint16_t kSaturated16 = 0xffffu;

uint16_t u16(const unsigned char* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
uint64_t u64(const unsigned char* p) { return static_cast<uint64_t>(u32(p)) | static_cast<uint64_t>(u32(p + 4)) << 32; }

std::string method_name(uint16_t method) {
  switch (method) {
    case 8: return "deflate";
    case 9: return "deflate64";
    case 12: return "bzip2";
    case 14: return "lzma";
    case 93: return "zstd";
    case 95: return "xz";
    default: return "method " + std::to_string(method);
  }
}

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void ZipArchive::fault(const std::string& what) const { fail(kind_, source_ + ": " + what); }

ZipArchive::ZipArchive(const unsigned char* bytes, size_t size, std::string source, ErrorKind kind,
                       const ZipLimits& limits)
    : bytes_(bytes), size_(size), source_(std::move(source)), kind_(kind) {
  if (size_ && !bytes_) fail(ErrorKind::Internal, source_ + ": null buffer");
  // ---- end of central directory: the last 22-byte record whose comment reaches the end exactly.
  if (size_ < kEndBytes)
    fault("truncated: " + std::to_string(size_) + " bytes, too short for a ZIP archive");
  size_t end_at = 0;
  bool found = false;
  const size_t lowest = size_ - kEndBytes > 0xffff ? size_ - kEndBytes - 0xffff : 0;
  for (size_t at = size_ - kEndBytes + 1; at-- > lowest;) {
    if (u32(bytes_ + at) == kEndSignature && at + kEndBytes + u16(bytes_ + at + 20) == size_) {
      end_at = at;
      found = true;
      break;
    }
  }
  if (!found) fault("no ZIP end-of-central-directory record: not a ZIP archive, or truncated");
  const unsigned char* end = bytes_ + end_at;
  uint64_t disk = u16(end + 4), directory_disk = u16(end + 6);
  uint64_t entries_here = u16(end + 8), entry_count = u16(end + 10);
  uint64_t directory_size = u32(end + 12), directory_offset = u32(end + 16);
  uint64_t directory_limit = end_at;  // the directory must end before this offset

  // ---- ZIP64: a locator right before the end record points to the ZIP64 end record.
  if (end_at >= kZip64LocatorBytes && u32(bytes_ + end_at - kZip64LocatorBytes) == kZip64LocatorSignature) {
    const unsigned char* locator = bytes_ + end_at - kZip64LocatorBytes;
    const uint64_t end64_at = u64(locator + 8);
    if (u32(locator + 4) != 0 || u32(locator + 16) > 1) fault("split (multi-disk) ZIP archives are not supported");
    if (end64_at > end_at - kZip64LocatorBytes || end_at - kZip64LocatorBytes - end64_at < kZip64EndBytes)
      fault("ZIP64 end record offset " + std::to_string(end64_at) + " is outside the file");
    const unsigned char* end64 = bytes_ + end64_at;
    if (u32(end64) != kZip64EndSignature) fault("no ZIP64 end record where the locator points");
    disk = u32(end64 + 16);
    directory_disk = u32(end64 + 20);
    entries_here = u64(end64 + 24);
    entry_count = u64(end64 + 32);
    directory_size = u64(end64 + 40);
    directory_offset = u64(end64 + 48);
    directory_limit = end64_at;
  } else if (entry_count == kSaturated16 || directory_size == kSaturated32 || directory_offset == kSaturated32) {
    fault("the end record needs ZIP64 values, but there is no ZIP64 locator");
  }
  if (disk != 0 || directory_disk != 0 || entries_here != entry_count)
    fault("split (multi-disk) ZIP archives are not supported");
  if (entry_count > limits.max_entries)
    fault("lists " + std::to_string(entry_count) + " entries, more than the limit of " +
          std::to_string(limits.max_entries));
  if (directory_offset > directory_limit || directory_size > directory_limit - directory_offset)
    fault("central directory [" + std::to_string(directory_offset) + ", +" + std::to_string(directory_size) +
          "] is outside the file (" + std::to_string(size_) + " bytes)");

  // ---- central directory
  const uint64_t directory_end = directory_offset + directory_size;
  uint64_t at = directory_offset;
  // Every entry takes at least 46 bytes of the directory: a huge count in a small directory
  // fails below without reserving memory for it.
  entries_.reserve(static_cast<size_t>(std::min<uint64_t>(entry_count, directory_size / kCentralHeaderBytes)));
  for (uint64_t i = 0; i < entry_count; ++i) {
    const std::string which = "central directory entry " + std::to_string(i);
    if (directory_end - at < kCentralHeaderBytes) fault(which + " runs past the central directory");
    const unsigned char* h = bytes_ + at;
    if (u32(h) != kCentralHeaderSignature) fault(which + " has no central header signature");
    const uint16_t flags = u16(h + 8);
    ZipEntry entry;
    entry.method = u16(h + 10);
    entry.crc32 = u32(h + 16);
    entry.compressed_size = u32(h + 20);
    entry.size = u32(h + 24);
    const uint64_t name_length = u16(h + 28), extra_length = u16(h + 30), comment_length = u16(h + 32);
    uint64_t entry_disk = u16(h + 34);
    entry.header_offset = u32(h + 42);
    if (directory_end - at - kCentralHeaderBytes < name_length + extra_length + comment_length)
      fault(which + " runs past the central directory");
    entry.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderBytes), name_length);
    const std::string label = "entry " + quote_for_message(entry.name);
    if (entry.name.empty()) fault(which + " has an empty name");
    if (flags & 0x41) fault(label + " is encrypted");

    // ZIP64 extra field: the saturated 32-bit values, in this order.
    const unsigned char* extra = h + kCentralHeaderBytes + name_length;
    uint64_t x = 0;
    bool have_zip64 = false;
    while (extra_length - x >= 4) {
      const uint16_t id = u16(extra + x), length = u16(extra + x + 2);
      if (length > extra_length - x - 4) fault(label + " has an extra field running past its header");
      if (id == kZip64ExtraId && !have_zip64) {
        have_zip64 = true;
        const unsigned char* field = extra + x + 4;
        uint64_t used = 0;
        auto next = [&](uint64_t& value, size_t bytes) {
          if (length - used < bytes) fault(label + " has a ZIP64 extra field too short for its values");
          value = bytes == 8 ? u64(field + used) : u32(field + used);
          used += bytes;
        };
        if (entry.size == kSaturated32) next(entry.size, 8);
        if (entry.compressed_size == kSaturated32) next(entry.compressed_size, 8);
        if (entry.header_offset == kSaturated32) next(entry.header_offset, 8);
        if (entry_disk == kSaturated16) next(entry_disk, 4);
      }
      x += 4 + length;
    }
    if (!have_zip64 &&
        (entry.size == kSaturated32 || entry.compressed_size == kSaturated32 || entry.header_offset == kSaturated32))
      fault(label + " needs ZIP64 values, but has no ZIP64 extra field");
    if (entry_disk != 0) fault("split (multi-disk) ZIP archives are not supported");
    if (entry.method == 0 && entry.compressed_size != entry.size)
      fault(label + " is stored, but its sizes differ (" + std::to_string(entry.compressed_size) + " vs " +
            std::to_string(entry.size) + ")");

    // The local header, the name again, then the data; all before the central directory.
    if (entry.header_offset > directory_offset || directory_offset - entry.header_offset < kLocalHeaderBytes)
      fault(label + " local header offset " + std::to_string(entry.header_offset) +
            " is outside the file's entry area (central directory at " + std::to_string(directory_offset) + ")");
    const unsigned char* local = bytes_ + entry.header_offset;
    if (u32(local) != kLocalHeaderSignature) fault(label + " has no local header at offset " + std::to_string(entry.header_offset));
    const uint64_t local_name = u16(local + 26), local_extra = u16(local + 28);
    const uint64_t room = directory_offset - entry.header_offset - kLocalHeaderBytes;
    if (local_name + local_extra > room) fault(label + " local header runs past the entry area");
    if (local_name != name_length || std::memcmp(local + kLocalHeaderBytes, entry.name.data(), name_length) != 0)
      fault(label + " local header names another entry");
    entry.data_offset = entry.header_offset + kLocalHeaderBytes + local_name + local_extra;
    if (entry.compressed_size > room - local_name - local_extra)
      fault(label + " data [" + std::to_string(entry.data_offset) + ", +" + std::to_string(entry.compressed_size) +
            "] runs past the entry area (central directory at " + std::to_string(directory_offset) + ")");
    if (!index_.emplace(entry.name, entries_.size()).second) fault("names " + label + " twice");
    entries_.push_back(std::move(entry));
    at += kCentralHeaderBytes + name_length + extra_length + comment_length;
  }
  if (at != directory_end)
    fault("central directory holds " + std::to_string(at - directory_offset) + " bytes of entries, but the end record says " +
          std::to_string(directory_size));

  // No byte may belong to two entries (headers and data).
  std::vector<const ZipEntry*> sorted;
  for (const ZipEntry& entry : entries_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const ZipEntry* a, const ZipEntry* b) { return a->header_offset < b->header_offset; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    const ZipEntry& a = *sorted[i - 1];
    const ZipEntry& b = *sorted[i];
    if (b.header_offset < a.data_offset + a.compressed_size)
      fault("entries " + quote_for_message(a.name) + " and " + quote_for_message(b.name) + " overlap");
  }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const unsigned char* ZipArchive::data(const ZipEntry& entry) const {
  if (entry.method != 0)
    fault("entry " + quote_for_message(entry.name) + " is compressed (" + method_name(entry.method) +
          "); compression is unsupported, only stored entries are read (torch.save writes them stored)");
  return bytes_ + entry.data_offset;
}

void ZipArchive::verify_crc(const ZipEntry& entry) const {
  const unsigned char* at = data(entry);
  if (entry.crc32 == 0 && entry.size != 0) return;  // not recorded
  const uint32_t actual = crc32(at, static_cast<size_t>(entry.size));
  if (actual != entry.crc32) {
    char text[64];
    std::snprintf(text, sizeof text, "CRC-32 %08x, but the directory records %08x", actual, entry.crc32);
    fault("entry " + quote_for_message(entry.name) + " is corrupt: " + text);
  }
}

MappedFile map_file(const std::string& path, ErrorKind kind) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below); regular files
  // ignore the flag.
  FdCloser file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (file.fd < 0) {
    const int error = errno;
    if (error == ENOENT) fail(kind == ErrorKind::ModelFormat ? ErrorKind::ModelMissing : kind, path + ": no such file");
    fail(kind, path + ": cannot open: " + std::strerror(error));
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) fail(kind, path + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) fail(kind, path + ": not a regular file");
  const size_t size = static_cast<size_t>(info.st_size);
  if (size == 0) fail(kind, path + ": empty file");
  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (mapping == MAP_FAILED) fail(kind, path + ": cannot map the file: " + std::strerror(errno));
  MappedFile mapped;
  mapped.data = static_cast<const unsigned char*>(mapping);
  mapped.size = size;
  mapped.owner = std::shared_ptr<const void>(mapping, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  return mapped;
}

}  // namespace perceiver
