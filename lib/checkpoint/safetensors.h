// safetensors: read (memory-mapped, header validated before any tensor is touched) and write
// (to a temporary name, renamed into place, so a reader never sees a partial file).
// Format: u64 little-endian header length N, N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, data.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "tensor/tensor.h"

namespace perceiver {

struct SafetensorsLimits {
  uint64_t max_header_bytes = 100ull << 20;  // 100 MiB of JSON header
  size_t max_tensors = 100000;
};

struct SafetensorsFile {
  std::string path;
  std::map<std::string, std::string> metadata;
  // Views into the mapping (copies where the data is not aligned for its dtype), in header order.
  std::vector<std::pair<std::string, Tensor>> tensors;

  const Tensor* find(const std::string& name) const;
};

// Maps and validates `path`. Throws Error(ModelFormat) naming the file and the fault
// (truncated, header past the end, bad JSON, unknown dtype, span outside the data section,
// overlapping spans, byte count not matching dtype × shape), Error(ModelMissing) if absent.
// `error_kind` lets callers reading inputs (not weights) report Input instead of ModelFormat.
SafetensorsFile read_safetensors(const std::string& path, ErrorKind error_kind = ErrorKind::ModelFormat,
                                 const SafetensorsLimits& limits = {});

// Parses an in-memory image of a safetensors file (the fuzz target and tests use it).
SafetensorsFile parse_safetensors(const void* bytes, size_t size, const std::string& name,
                                  ErrorKind error_kind = ErrorKind::ModelFormat,
                                  const SafetensorsLimits& limits = {});

// Writes tensors (any dtype) in the given order; atomically replaces `path`.
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// A safetensors file written as its tensors grow, for data too large to hold in memory (a whole
// batch's model inputs, --save-inputs): each tensor is declared with its dtype and the shape of
// one item, items are appended to any tensor in any order, and commit() writes the file, each
// tensor's first dimension being its number of items, atomically (whole or not at all: destroyed
// without commit(), nothing is written). Until then the items wait in unlinked scratch files
// beside `path` ($TMPDIR, else /tmp, when `path` is a device or FIFO), so memory does not grow
// with them. Error(Output) naming `path` when it cannot be written (checked by the constructor,
// before any work) and on any I/O failure.
class SafetensorsAppender {
 public:
  struct Column {
    std::string name;
    DType dtype;
    Shape item_shape;
  };
  SafetensorsAppender(std::string path, std::vector<Column> columns);
  ~SafetensorsAppender();
  SafetensorsAppender(const SafetensorsAppender&) = delete;
  SafetensorsAppender& operator=(const SafetensorsAppender&) = delete;

  // `items` is [k, item_shape...] of the column's dtype (k may be 0); Error(Internal) otherwise.
  void append(size_t column, const Tensor& items);
  int64_t items(size_t column) const { return counts_.at(column); }
  void commit(const std::map<std::string, std::string>& metadata = {});

 private:
  std::string path_;
  std::vector<Column> columns_;
  std::vector<int> scratch_;  // file descriptors, one per column
  std::vector<int64_t> counts_;
};

}  // namespace perceiver
