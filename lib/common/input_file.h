// Reading the files users hand us, in one place, so that every tool treats odd files alike:
//   * a regular file is sized with stat before anything is read, and refused when over the limit;
//   * anything else that can be read (standard input, a pipe, a FIFO, a process substitution,
//     a character device such as /dev/zero) is read once, in chunks, and refused as soon as it
//     passes the limit, so /dev/zero costs one limit's worth of reading at most;
//   * a read (or the open of a FIFO) that is waiting when SIGINT or SIGTERM arrives ends with
//     Error(Interrupted) within the call (the tools' handlers do not restart system calls), so
//     a tool blocked on a silent pipe still stops at once with exit code 11;
//   * folders and other nodes are refused with a one-line message naming the path.
// Model files (config.json, weights) must be regular files: require_regular_file refuses a FIFO
// before anything opens it, which would otherwise block forever.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/error.h"

namespace perceiver {

struct InputFileLimit {
  uint64_t bytes = 0;     // the most a file may hold
  std::string flag;       // the flag that raises it, for the message ("--max-input-bytes"); may be empty
};

// The whole content of `path` ("-": standard input). Error(`kind`) "<path>: cannot open the
// file (reason)" / "is a directory" / "read error"; Error(Limit) "<path>: N bytes exceed the
// limit of L bytes (raise it with FLAG)"; Error(Interrupted) on a signal while waiting.
// `check_start`, when given, sees the first bytes (up to 64 KiB, all of a shorter file) before
// the rest is read, and may throw to refuse the file early (e.g. /dev/zero as an image).
std::string read_input_file(const std::string& path, const InputFileLimit& limit, ErrorKind kind = ErrorKind::Input,
                            const std::function<void(const std::string&)>& check_start = {});

// The first `count` bytes of `path` (fewer when the file is shorter), with the rules above; for
// checks of a header before the rest is read.
std::string read_input_prefix(const std::string& path, size_t count, ErrorKind kind = ErrorKind::Input);

// The lines of `path` ("-": standard input) as they arrive, so a tool can answer each line of a
// pipe while the writer is still writing: next() returns a line (without its '\n'; the last one
// may have none) as soon as it is complete, false at the end. The same rules as read_input_file:
// Error(Limit) once more than `limit` bytes were read in all, Error(Interrupted) when a signal
// ends a wait. `separator` ends a line ('\0' for find -print0 lists).
class LineReader {
 public:
  LineReader(const std::string& path, const InputFileLimit& limit, ErrorKind kind = ErrorKind::Input,
             char separator = '\n');
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  bool next(std::string& line);
  // True when next() would return without waiting: a whole line is buffered, the input has
  // ended, or bytes are waiting to be read (so a tool can batch what has arrived, not wait for more).
  bool ready() const;

 private:
  std::string path_;
  InputFileLimit limit_;
  ErrorKind kind_;
  char separator_;
  int fd_ = -1;
  bool owned_ = false, eof_ = false;
  uint64_t read_ = 0;
  std::string buffer_;
  size_t start_ = 0;  // of the next line in buffer_
};

// Error(kind) "<path>: not a regular file (a FIFO, device or socket is not read)" unless `path`
// is a regular file (symbolic links followed); Error(missing_kind) "<path>: no such file" when
// it does not exist.
void require_regular_file(const std::string& path, ErrorKind kind, ErrorKind missing_kind);

// True for a path that can be read only once: standard input ("-"), a FIFO, a character device
// (anything that exists and is neither a regular file nor a folder).
bool reads_once(const std::string& path);

}  // namespace perceiver
