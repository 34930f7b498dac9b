#include "checkpoint/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "common/atomic_file.h"
#include "common/json.h"

namespace perceiver {

// Tensor bytes are viewed in place, so the host must share the format's byte order.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors data is little-endian");

namespace {

// ordered_json keeps the header's key order, which is the order SafetensorsFile::tensors promises.
using Json = nlohmann::ordered_json;

constexpr const char* kMetadataKey = "__metadata__";
constexpr size_t kLengthPrefixBytes = 8;

// Where errors go: every message starts with the file name and carries the caller's error kind.
struct Reporter {
  const std::string& source;
  ErrorKind kind;
  [[noreturn]] void fault(const std::string& what) const { fail(kind, source + ": " + what); }
};

// A name from the file as it appears in a message: quoted, with control characters escaped so
// that the message stays on one line whatever the header contains, and cut if very long.
std::string quote_name(const std::string& name) {
  constexpr size_t kShown = 200;
  std::string out = "'";
  for (unsigned char c : name.substr(0, kShown)) {
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + (name.size() > kShown ? "...'" : "'");
}

std::string tensor_label(const std::string& name) { return "tensor " + quote_name(name); }

const char* json_type(const Json& value) { return value.type_name(); }

// A JSON value for a message, cut short: the header may hold anything, of any size.
std::string brief(const Json& value) {
  std::string text = value.dump();
  if (text.size() <= 60) return text;
  size_t cut = 57;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 character
  return text.substr(0, cut) + "...";
}

// One validated header entry; offsets are relative to the start of the data section.
struct Entry {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

struct Header {
  std::map<std::string, std::string> metadata;
  std::vector<Entry> entries;  // in header order
  uint64_t data_start = 0;     // offset of the data section in the file
  uint64_t data_size = 0;
};

// ---- reading ------------------------------------------------------------------------------------

uint64_t read_u64_le(const unsigned char* p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

// The 8-byte prefix: returns the header length after checking it against the file and the limit.
uint64_t read_header_length(const unsigned char* bytes, size_t size, const SafetensorsLimits& limits,
                            const Reporter& report) {
  if (size < kLengthPrefixBytes)
    report.fault("truncated: " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  const uint64_t length = read_u64_le(bytes);
  const uint64_t available = size - kLengthPrefixBytes;
  if (length > available)
    report.fault("header length " + std::to_string(length) + " past the end of the file (" +
                 std::to_string(size) + " bytes); the file is truncated or not safetensors");
  if (length > limits.max_header_bytes)
    fail(ErrorKind::Limit, report.source + ": header of " + std::to_string(length) + " bytes exceeds the limit of " +
                               std::to_string(limits.max_header_bytes) + " bytes (raise it with --max-header-bytes)");
  return length;
}

Json parse_header_json(const char* text, size_t length, const Reporter& report) {
  // A repeated tensor name would silently replace the first entry; refuse it instead.
  std::set<std::string> seen;
  std::string duplicate;
  const Json::parser_callback_t note_duplicates = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxJsonDepth)  // copying or printing a deeper value would recurse that deep
      report.fault("header is JSON nested more than " + std::to_string(kMaxJsonDepth) + " levels deep");
    if (depth == 1 && event == Json::parse_event_t::key && duplicate.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second) duplicate = key;
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text, text + length, note_duplicates);
  } catch (const Json::exception& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix; the rest says where and why.
    std::string why = json_error_reason(e);
    if (why.size() > 300) why = why.substr(0, 300) + "...";  // it quotes the offending token
    report.fault("header is not valid JSON: " + why);
  }
  if (!header.is_object()) report.fault(std::string("header is JSON ") + json_type(header) + ", not an object");
  if (!duplicate.empty()) report.fault("header names " + quote_name(duplicate) + " twice");
  return header;
}

std::map<std::string, std::string> parse_metadata(const Json& value, const Reporter& report) {
  if (!value.is_object())
    report.fault(std::string(kMetadataKey) + " is JSON " + json_type(value) + ", not an object of strings");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string())
      report.fault(std::string(kMetadataKey) + " entry " + quote_name(key) + " is JSON " + json_type(item) +
                   ", not a string");
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

DType parse_dtype(const std::string& name, const Json& value, const Reporter& report) {
  if (!value.is_string()) report.fault(tensor_label(name) + " dtype is JSON " + json_type(value) + ", not a string");
  const std::string& text = value.get_ref<const std::string&>();
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::I64, DType::U8})
    if (text == dtype_name(dtype)) return dtype;
  report.fault(tensor_label(name) + " has unsupported dtype " + quote_name(text) +
               " (supported: F32, F16, BF16, I64, U8)");
}

// A JSON value that must be a non-negative integer (shape entry or offset).
uint64_t non_negative_integer(const Json& value, const std::string& what, const Reporter& report) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) report.fault(what + " is negative (" + brief(value) + ")");
  report.fault(what + " is JSON " + json_type(value) + ", not a non-negative integer");
}

Shape parse_shape(const std::string& name, const Json& value, const Reporter& report) {
  if (!value.is_array()) report.fault(tensor_label(name) + " shape is JSON " + json_type(value) + ", not an array");
  Shape shape;
  shape.reserve(value.size());
  // The running product must stay within int64 at every step, because shape_numel() multiplies
  // in this order and a zero dimension late in the list does not save it from overflowing.
  int64_t running = 1;
  for (const Json& item : value) {
    const uint64_t dim = non_negative_integer(item, tensor_label(name) + " shape entry", report);
    int64_t product = 0;
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        __builtin_mul_overflow(running, static_cast<int64_t>(dim), &product))
      report.fault(tensor_label(name) + " shape " + brief(value) + " is too large");
    running = product;
    shape.push_back(static_cast<int64_t>(dim));
  }
  return shape;
}

std::pair<uint64_t, uint64_t> parse_offsets(const std::string& name, const Json& value, const Reporter& report) {
  if (!value.is_array() || value.size() != 2)
    report.fault(tensor_label(name) + " data_offsets " + brief(value) + " is not a [begin, end] pair");
  const std::string what = tensor_label(name) + " data_offsets entry";
  const uint64_t begin = non_negative_integer(value[0], what, report);
  const uint64_t end = non_negative_integer(value[1], what, report);
  if (begin > end) report.fault(tensor_label(name) + " data_offsets " + brief(value) + " begin after end");
  return {begin, end};
}

const Json& field(const std::string& name, const Json& entry, const char* key, const Reporter& report) {
  const auto found = entry.find(key);
  if (found == entry.end()) report.fault(tensor_label(name) + " has no \"" + key + "\"");
  return *found;
}

Entry parse_entry(const std::string& name, const Json& value, uint64_t data_size, const Reporter& report) {
  if (!value.is_object()) report.fault(tensor_label(name) + " is JSON " + json_type(value) + ", not an object");
  Entry entry;
  entry.name = name;
  entry.dtype = parse_dtype(name, field(name, value, "dtype", report), report);
  entry.shape = parse_shape(name, field(name, value, "shape", report), report);
  const Json& offsets = field(name, value, "data_offsets", report);
  std::tie(entry.begin, entry.end) = parse_offsets(name, offsets, report);
  const std::string span = "data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + "]";
  if (entry.end > data_size)
    report.fault(tensor_label(name) + " " + span + " end past the data section (" + std::to_string(data_size) +
                 " bytes)");
  // numel fits int64 (parse_shape); times a dtype size of at most 8 it could still overflow.
  uint64_t expected = 0;
  const bool overflow =
      __builtin_mul_overflow(static_cast<uint64_t>(shape_numel(entry.shape)), dtype_size(entry.dtype), &expected);
  if (overflow || expected != entry.end - entry.begin)
    report.fault(tensor_label(name) + " " + span + " holds " + std::to_string(entry.end - entry.begin) +
                 " bytes, but " + dtype_name(entry.dtype) + " " + shape_to_string(entry.shape) + " needs " +
                 (overflow ? std::string("more than 2^64") : std::to_string(expected)));
  return entry;
}

// No byte of the data section may belong to two tensors. Empty spans hold no bytes and are skipped.
void check_no_overlap(const std::vector<Entry>& entries, const Reporter& report) {
  std::vector<const Entry*> sorted;
  for (const Entry& entry : entries)
    if (entry.begin < entry.end) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  // Once sorted, spans that do not overlap are disjoint and ordered, so comparing neighbours suffices.
  for (size_t i = 1; i < sorted.size(); ++i) {
    const Entry& a = *sorted[i - 1];
    const Entry& b = *sorted[i];
    if (b.begin < a.end)
      report.fault(tensor_label(a.name) + " [" + std::to_string(a.begin) + ", " + std::to_string(a.end) + "] and " +
                   tensor_label(b.name) + " [" + std::to_string(b.begin) + ", " + std::to_string(b.end) +
                   "] overlap");
  }
}

// Everything about the file is checked here, before any tensor is created.
Header parse_header(const unsigned char* bytes, size_t size, const SafetensorsLimits& limits,
                    const Reporter& report) {
  const uint64_t length = read_header_length(bytes, size, limits, report);
  const Json json = parse_header_json(reinterpret_cast<const char*>(bytes) + kLengthPrefixBytes, length, report);
  Header header;
  header.data_start = kLengthPrefixBytes + length;
  header.data_size = size - header.data_start;
  const size_t count = json.size() - (json.contains(kMetadataKey) ? 1 : 0);
  if (count > limits.max_tensors)
    fail(ErrorKind::Limit, report.source + ": header lists " + std::to_string(count) +
                               " tensors, more than the limit of " + std::to_string(limits.max_tensors) +
                               " (raise it with --max-tensors)");
  header.entries.reserve(count);
  for (const auto& [key, value] : json.items()) {
    if (key == kMetadataKey)
      header.metadata = parse_metadata(value, report);
    else if (key.find('\0') != std::string::npos)  // C strings (and users) would see another name
      report.fault(tensor_label(key) + " has a NUL byte in its name");
    else
      header.entries.push_back(parse_entry(key, value, header.data_size, report));
  }
  check_no_overlap(header.entries, report);
  return header;
}

// A view into the buffer kept alive by `owner`, or an owned copy when there is no owner (the
// caller's buffer may go away) or the bytes are not aligned for the dtype (kernels read them
// as float / int64 directly).
Tensor make_tensor(const Entry& entry, const unsigned char* data, const std::shared_ptr<const void>& owner) {
  const unsigned char* at = data + entry.begin;
  const bool aligned = reinterpret_cast<uintptr_t>(at) % dtype_size(entry.dtype) == 0;
  if (owner && aligned) return Tensor::view(entry.dtype, entry.shape, at, owner, /*file_mapping=*/true);
  Tensor copy = Tensor::zeros(entry.dtype, entry.shape);
  const size_t bytes = entry.end - entry.begin;
  // raw() is const only because views are read-only; this tensor owns fresh writable storage.
  if (bytes) std::memcpy(const_cast<void*>(copy.raw()), at, bytes);
  return copy;
}

SafetensorsFile build_file(const unsigned char* bytes, size_t size, const std::string& source, ErrorKind error_kind,
                           const SafetensorsLimits& limits, const std::shared_ptr<const void>& owner) {
  const Reporter report{source, error_kind};
  const Header header = parse_header(bytes, size, limits, report);
  SafetensorsFile file;
  file.path = source;
  file.metadata = header.metadata;
  file.tensors.reserve(header.entries.size());
  const unsigned char* data = bytes + header.data_start;
  for (const Entry& entry : header.entries) file.tensors.emplace_back(entry.name, make_tensor(entry, data, owner));
  return file;
}

// Closes a file descriptor on every path out of read_safetensors.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// ---- writing ------------------------------------------------------------------------------------

// One tensor of a file being written: its bytes follow the previous tensor's.
struct HeaderEntry {
  const std::string& name;
  DType dtype;
  Shape shape;
  uint64_t nbytes;
};

std::string header_text(const std::string& path, const std::vector<HeaderEntry>& entries,
                        const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const HeaderEntry& entry : entries) {
    if (entry.name == kMetadataKey) fail(ErrorKind::Internal, path + ": a tensor cannot be named " + kMetadataKey);
    if (!names.insert(entry.name).second) fail(ErrorKind::Internal, path + ": " + tensor_label(entry.name) + " given twice");
    const uint64_t end = offset + entry.nbytes;
    header[entry.name] = {{"dtype", dtype_name(entry.dtype)}, {"shape", entry.shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::exception& e) {  // a name that is not valid UTF-8
    fail(ErrorKind::Internal, path + ": cannot encode the header: " + e.what());
  }
  // Padding keeps the data section (and so every tensor) 8-byte aligned in the file.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

std::string header_text(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  std::vector<HeaderEntry> entries;
  for (const auto& [name, tensor] : tensors) {
    if (tensor.nbytes() && !tensor.raw()) fail(ErrorKind::Internal, path + ": " + tensor_label(name) + " has no data");
    entries.push_back({name, tensor.dtype(), tensor.shape(), tensor.nbytes()});
  }
  return header_text(path, entries, metadata);
}

std::string u64_le(uint64_t value) {
  std::string bytes(8, '\0');
  for (char& byte : bytes) {
    byte = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return bytes;
}

}  // namespace

const Tensor* SafetensorsFile::find(const std::string& name) const {
  // A linear scan: models have a few hundred tensors and callers look each up once.
  for (const auto& [tensor_name, tensor] : tensors)
    if (tensor_name == name) return &tensor;
  return nullptr;
}

SafetensorsFile read_safetensors(const std::string& path, ErrorKind error_kind, const SafetensorsLimits& limits) {
  const Reporter report{path, error_kind};
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below); regular files
  // ignore the flag.
  FdCloser file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (file.fd < 0) {
    const int error = errno;
    // A missing weights file is its own category; for other callers (inputs) it stays theirs.
    if (error == ENOENT) fail(error_kind == ErrorKind::ModelFormat ? ErrorKind::ModelMissing : error_kind,
                              path + ": no such file");
    report.fault(std::string("cannot open: ") + std::strerror(error));
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) report.fault(std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(info.st_mode)) report.fault("not a regular file");
  const size_t size = static_cast<size_t>(info.st_size);
  // mmap refuses a zero length, and such a file could not hold the length prefix anyway.
  if (size < kLengthPrefixBytes)
    report.fault("truncated: " + std::to_string(size) + " bytes, shorter than the 8-byte header length");

  void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, file.fd, 0);
  if (mapping == MAP_FAILED) report.fault(std::string("cannot map the file: ") + std::strerror(errno));
  // Tensor views share this handle; the last one released unmaps the file. (If another process
  // truncates the file while it is mapped, reading the lost pages raises SIGBUS; nothing portable
  // prevents that short of copying the whole file.)
  const std::shared_ptr<const void> owner(mapping, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  return build_file(static_cast<const unsigned char*>(mapping), size, path, error_kind, limits, owner);
}

SafetensorsFile parse_safetensors(const void* bytes, size_t size, const std::string& name, ErrorKind error_kind,
                                  const SafetensorsLimits& limits) {
  if (size && !bytes) fail(ErrorKind::Internal, name + ": null buffer of " + std::to_string(size) + " bytes");
  // No owner: the caller's buffer may not outlive the result, so every tensor is copied.
  return build_file(static_cast<const unsigned char*>(bytes), size, name, error_kind, limits, nullptr);
}

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string header = header_text(path, tensors, metadata);
  write_file_atomically(path, [&](std::ostream& out) {
    out << u64_le(header.size()) << header;
    for (const auto& [name, tensor] : tensors)
      out.write(static_cast<const char*>(tensor.raw()), static_cast<std::streamsize>(tensor.nbytes()));
  });
}

// ---- SafetensorsAppender ---------------------------------------------------------------------------

SafetensorsAppender::SafetensorsAppender(std::string path, std::vector<Column> columns)
    : path_(std::move(path)), columns_(std::move(columns)) {
  check_output_path(path_);
  std::string dir;
  if (classify_output(path_) == OutputTarget::Stream) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp && *tmp ? tmp : "/tmp";
  } else {
    const size_t slash = path_.rfind('/');
    dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
  }
  for (size_t i = 0; i < columns_.size(); ++i) {
    std::string scratch = dir + "/.perceiver-scratch.XXXXXX";
    const int fd = ::mkstemp(scratch.data());
    if (fd < 0) fail(ErrorKind::Output, path_ + ": cannot create a scratch file in " + dir + ": " + std::strerror(errno));
    ::unlink(scratch.c_str());  // gone with the process, whatever happens
    scratch_.push_back(fd);
    counts_.push_back(0);
  }
}

SafetensorsAppender::~SafetensorsAppender() {
  for (int fd : scratch_) ::close(fd);
}

void SafetensorsAppender::append(size_t column, const Tensor& items) {
  const Column& c = columns_.at(column);
  Shape expected = c.item_shape;
  expected.insert(expected.begin(), items.rank() ? items.dim(0) : 0);
  if (items.dtype() != c.dtype || items.shape() != expected)
    fail(ErrorKind::Internal, path_ + ": " + c.name + " items must be " + dtype_name(c.dtype) + " [k, " +
                                  shape_to_string(c.item_shape) + "], got " + dtype_name(items.dtype()) + " " +
                                  shape_to_string(items.shape()));
  const char* data = static_cast<const char*>(items.raw());
  for (size_t done = 0, total = items.nbytes(); done < total;) {
    const ssize_t n = ::write(scratch_[column], data + done, total - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(ErrorKind::Output, path_ + ": cannot write the scratch file: " + std::strerror(n < 0 ? errno : ENOSPC));
    done += static_cast<size_t>(n);
  }
  counts_[column] += expected[0];
}

void SafetensorsAppender::commit(const std::map<std::string, std::string>& metadata) {
  std::vector<HeaderEntry> entries;
  std::vector<uint64_t> sizes;
  for (size_t i = 0; i < columns_.size(); ++i) {
    Shape shape = columns_[i].item_shape;
    shape.insert(shape.begin(), counts_[i]);
    sizes.push_back(static_cast<uint64_t>(shape_numel(shape)) * dtype_size(columns_[i].dtype));
    entries.push_back({columns_[i].name, columns_[i].dtype, shape, sizes.back()});
  }
  const std::string header = header_text(path_, entries, metadata);
  AtomicOutputFile out(path_);
  out.write(u64_le(header.size()) + header);
  std::string chunk;
  for (size_t i = 0; i < columns_.size(); ++i) {
    for (uint64_t offset = 0; offset < sizes[i];) {
      chunk.resize(static_cast<size_t>(std::min<uint64_t>(sizes[i] - offset, 1 << 20)));
      const ssize_t n = ::pread(scratch_[i], chunk.data(), chunk.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(ErrorKind::Output, path_ + ": cannot read the scratch file back: " + std::strerror(n < 0 ? errno : EIO));
      chunk.resize(static_cast<size_t>(n));
      out.write(chunk);
      offset += static_cast<uint64_t>(n);
    }
  }
  out.commit();
}

}  // namespace perceiver
