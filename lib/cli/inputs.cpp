#include "cli/inputs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <set>
#include <sstream>
#include <utility>

#include "common/error.h"
#include "common/escape.h"
#include "common/input_file.h"

namespace perceiver::cli {

namespace fs = std::filesystem;

const std::vector<std::string>& image_extensions() {
  static const std::vector<std::string> extensions = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga",
                                                      ".pnm", ".ppm", ".pgm", ".pbm"};
  return extensions;
}

namespace {

bool wanted(const fs::path& path, const InputOptions& options) {
  if (options.extensions.empty()) return true;
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::find(options.extensions.begin(), options.extensions.end(), extension) != options.extensions.end();
}

// One expansion: the folders already listed (device, inode), so a symbolic link to "." or ".."
// or any other loop lists each real folder once.
struct Walk {
  const InputOptions& options;
  std::deque<std::string>& out;
  std::set<std::pair<dev_t, ino_t>> visited;

  void note(const std::string& message) const {
    std::fprintf(stderr, "%s%s%s\n", options.program ? options.program : "", options.program ? ": " : "",
                 escape_control(message).c_str());
  }

  void add_directory(const fs::path& dir, bool top) {
    struct stat info {};
    if (::stat(dir.c_str(), &info) == 0 && !visited.insert({info.st_dev, info.st_ino}).second) {
      note(dir.string() + ": a folder already listed (reached again through a symbolic link), skipped");
      return;
    }
    std::vector<fs::path> files, subdirs;
    std::error_code error;
    fs::directory_iterator it(dir, error);
    if (error) {
      if (top) fail(ErrorKind::Input, dir.string() + ": cannot list the directory (" + error.message() + ")");
      note(dir.string() + ": cannot list the folder (" + error.message() + "), skipped");
      return;
    }
    for (; it != fs::directory_iterator(); it.increment(error)) {
      if (error) break;
      const fs::path& path = it->path();
      struct stat entry {};
      if (::stat(path.c_str(), &entry) != 0) {  // dangling or looping link, or gone since listed
        if (wanted(path, options))
          note(path.string() + ": " + (errno == ELOOP ? "a symbolic link loop" : "a dangling symbolic link") +
               ", skipped");
        continue;
      }
      if (S_ISDIR(entry.st_mode)) subdirs.push_back(path);
      else if (!wanted(path, options)) continue;
      else if (S_ISREG(entry.st_mode)) files.push_back(path);
      else note(path.string() + ": not a regular file (a FIFO, device or socket), skipped");
    }
    if (error) note(dir.string() + ": listing stopped early (" + error.message() + ")");
    std::sort(files.begin(), files.end());
    std::sort(subdirs.begin(), subdirs.end());
    for (const auto& file : files) out.push_back(file.string());
    if (options.recursive)
      for (const auto& sub : subdirs) add_directory(sub, false);
  }

  // A file, a folder, or (inside a list) anything else; lists are opened by the stream.
  void add_path(const std::string& argument) {
    std::error_code error;
    if (fs::is_directory(argument, error)) return add_directory(argument, true);
    out.push_back(argument);  // a file, or something that fails later as that input (missing, a loop)
  }

  // One entry of a list. Lines: blank lines and lines starting with '#' are skipped, a trailing
  // CR is dropped, and a line naming a list ("-", "@…") is refused. NUL-separated lists (find
  // -print0) take every non-empty entry as the path it is: any byte but NUL may be in a name, so
  // "#a.png" and "@b.png" are files. Entries are taken as given (a directory is expanded).
  void add_list_entry(std::string line, const std::string& list) {
    if (options.null_separated) {
      if (!line.empty()) add_path(line);
      return;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') return;
    if (line == "-" || line[0] == '@') fail(ErrorKind::Input, list + ": a list cannot name another list ('" + line + "')");
    add_path(line);
  }
};

}  // namespace

struct InputStream::State {
  State(std::vector<std::string> arguments_, InputOptions options_)
      : arguments(std::move(arguments_)), options(std::move(options_)) {}
  std::vector<std::string> arguments;
  InputOptions options;
  size_t next_argument = 0;
  std::deque<std::string> pending;  // paths found, not yet returned
  Walk walk{options, pending, {}};
  std::unique_ptr<LineReader> list;  // the list being read, if any
  std::string list_name;
};

InputStream::InputStream(std::vector<std::string> arguments, InputOptions options)
    : state_(std::make_unique<State>(std::move(arguments), std::move(options))) {}

InputStream::~InputStream() = default;

bool InputStream::next(std::string& path) {
  State& s = *state_;
  const char separator = s.options.null_separated ? '\0' : '\n';
  for (;;) {
    if (!s.pending.empty()) {
      path = std::move(s.pending.front());
      s.pending.pop_front();
      return true;
    }
    if (s.list) {
      std::string line;
      if (s.list->next(line)) s.walk.add_list_entry(std::move(line), s.list_name);
      else s.list.reset();
      continue;
    }
    if (s.next_argument == s.arguments.size()) return false;
    const std::string& argument = s.arguments[s.next_argument++];
    if (argument == "-" || (argument.size() > 1 && argument[0] == '@')) {
      const std::string file = argument == "-" ? "-" : argument.substr(1);
      s.list = std::make_unique<LineReader>(file, InputFileLimit{kMaxListBytes, ""}, ErrorKind::Input, separator);
      s.list_name = argument == "-" ? "standard input" : file;
    } else {
      s.walk.add_path(argument);
    }
  }
}

bool InputStream::ready() const { return !state_->pending.empty() || !state_->list || state_->list->ready(); }

std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments, const InputOptions& options) {
  InputStream stream(arguments, options);
  std::vector<std::string> out;
  for (std::string path; stream.next(path);) out.push_back(std::move(path));
  return out;
}

}  // namespace perceiver::cli
