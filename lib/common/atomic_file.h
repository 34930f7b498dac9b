// Output files are written whole or not at all: bytes go to a temporary file beside the target,
// which is flushed and renamed into place only after everything was written. Only regular files
// are ever replaced: a character device or FIFO (-o /dev/null, -o /dev/stdout, a named pipe) is
// written in place, a symbolic link keeps pointing where it did (the file it names is
// replaced), and a directory, a dangling link or any other kind of node is refused, untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace perceiver {

enum class OutputTarget { NewFile, RegularFile, Stream };

// What `path` is as an output: nothing yet, a regular file (through any symbolic links), or a
// character device / FIFO. Error(Output) naming `path` for a directory, a dangling symbolic link
// or another kind of node. Tools call it before any work, so a bad -o fails at once.
OutputTarget classify_output(const std::string& path);

// Whether `path` could be written now, checked before any work (as ffmpeg checks its outputs):
// classify_output's refusals, and for a new or regular file that its folder exists and is
// writable. Error(Output) "<path>: cannot be written: …" otherwise. Nothing is created.
void check_output_path(const std::string& path);

// Calls `write` with a stream to a temporary file, then renames it to `path` (a device or FIFO:
// writes it in place).
// On any failure (exception from `write`, I/O error) the temporary file is removed and
// Error(Output) is thrown naming `path`.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// The same, written piece by piece (a whole-mode -o of records): bytes go to the temporary file
// as they come, commit() renames it into place; destroyed without commit(), the temporary file
// is removed and `path` is as it was. A device or FIFO target is written in place (commit() then
// only flushes). Error(Output) naming `path` for what classify_output refuses and on any failure.
class AtomicOutputFile {
 public:
  explicit AtomicOutputFile(const std::string& path);
  ~AtomicOutputFile();
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;
  void write(const std::string& bytes);
  void commit();
  // Bytes written so far; cut back to `size` (false for a device or FIFO, which cannot be cut).
  uint64_t size() const { return written_; }
  bool truncate(uint64_t size);

 private:
  std::string path_, destination_, temporary_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool in_place_ = false, committed_ = false;
};

// The temporary name used for `path` by this process: "<path>.tmp.<pid>".
std::string temporary_path(const std::string& path);

// The pid in `file_name` when it is "<target_name>.tmp.<pid>", else 0.
long temporary_owner(const std::string& file_name, const std::string& target_name);

}  // namespace perceiver
