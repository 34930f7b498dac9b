// ZIP archives as PyTorch writes them (torch.save's default format since 1.6): the central
// directory is read and validated, entries are located in the file, and a stored
// (uncompressed) entry's bytes are handed out in place. Compressed entries are listed but their
// bytes are refused with an error naming the entry (this reader has no inflate). ZIP64 records
// are read, so archives and entries past 4 GiB work. Every offset and size read from the file is
// checked against the file before it is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/crc32.h"  // crc32: ZIP entries are checked with it

namespace perceiver {

struct ZipLimits {
  size_t max_entries = 1000000;
};

struct ZipEntry {
  std::string name;
  uint16_t method = 0;          // 0 = stored, 8 = deflate, ...
  uint32_t crc32 = 0;           // as recorded in the central directory
  uint64_t header_offset = 0;   // the local file header
  uint64_t data_offset = 0;     // first byte of the entry's (stored or compressed) data
  uint64_t compressed_size = 0;
  uint64_t size = 0;            // uncompressed size
};

// A read-only view of a ZIP archive held in memory (typically a file mapping owned by the caller).
class ZipArchive {
 public:
  // Parses the end-of-central-directory record (and its ZIP64 form), the central directory and
  // every local header. Throws Error(kind, "<source>: ...") on anything malformed: no end record,
  // a directory or entry outside the file, overlapping entries, duplicate names, encryption,
  // split archives, ...
  ZipArchive(const unsigned char* bytes, size_t size, std::string source, ErrorKind kind = ErrorKind::ModelFormat,
             const ZipLimits& limits = {});

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;

  // The bytes of a stored entry, in place. Throws naming the entry when it is compressed.
  const unsigned char* data(const ZipEntry& entry) const;

  // Throws naming the entry when its bytes do not match the CRC-32 in the central directory.
  // (A CRC of 0 on a non-empty entry means "not recorded" and is accepted: PyTorch can be told
  // not to compute CRCs.)
  void verify_crc(const ZipEntry& entry) const;

  const std::string& source() const { return source_; }

 private:
  [[noreturn]] void fault(const std::string& what) const;

  const unsigned char* bytes_;
  size_t size_;
  std::string source_;
  ErrorKind kind_;
  std::vector<ZipEntry> entries_;
  std::map<std::string, size_t> index_;
};


// A whole file mapped read-only. `owner` unmaps it when the last holder lets go; tensor views
// into the mapping share it.
struct MappedFile {
  const unsigned char* data = nullptr;
  size_t size = 0;
  std::shared_ptr<const void> owner;
};

// Maps `path`. Error(ModelMissing) when it does not exist; Error(kind) when it cannot be opened or
// mapped, is not a regular file, or is empty.
MappedFile map_file(const std::string& path, ErrorKind kind = ErrorKind::ModelFormat);

}  // namespace perceiver
