// Turning command-line arguments into a deterministic list of input files, the same way in
// every tool: files in argument order; a directory gives its files with a wanted extension,
// sorted by name (with `recursive`, sub-folders too, each sorted); "@list" reads one path per
// line from a file; "-" reads such a list from stdin (lists are read as they arrive). Paths that do not exist are kept, so the
// tool reports them as failed inputs in order instead of aborting the batch.
// Folder walks visit each real folder once (by device and inode, so a symbolic link to "." or
// ".." adds nothing), follow symbolic links to files, and skip, with one note on stderr each, a
// dangling or looping link and anything that is not a regular file (a FIFO, a device, a socket)
// among the wanted names; they never block on such an entry and never abort the batch for it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace perceiver::cli {

// The most a path list (@list or "-") may hold.
inline constexpr uint64_t kMaxListBytes = uint64_t{1} << 30;

struct InputOptions {
  bool recursive = false;
  const char* program = nullptr;  // prefixes the notes on stderr
  bool null_separated = false;     // lists (@LIST, "-") hold NUL-separated paths (find -print0)
  std::vector<std::string> extensions;  // lower-case, with the dot: {".jpg", ".png"}; empty = all
};

// The same inputs one at a time, in the same order, reading a list ("-", @LIST) as it arrives:
// next() returns each path of a pipe as soon as its line is complete, so a tool can answer it
// while the writer is still writing (a co-process, or a growing list).
class InputStream {
 public:
  InputStream(std::vector<std::string> arguments, InputOptions options);
  ~InputStream();
  InputStream(const InputStream&) = delete;
  InputStream& operator=(const InputStream&) = delete;
  bool next(std::string& path);
  // True when next() would not wait for a list that is still arriving.
  bool ready() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// All of them (InputStream drained).
std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments, const InputOptions& options);

// The extensions of the image formats decode_image reads (media/image.h).
const std::vector<std::string>& image_extensions();

}  // namespace perceiver::cli
