#include "cli/inputs.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
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
  std::vector<std::string>& out;
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

  void add_argument(const std::string& argument) {
    if (argument == "-") return add_list(read_input_file("-", {kMaxListBytes, ""}), "standard input");
    if (argument.size() > 1 && argument[0] == '@') {
      const std::string list = argument.substr(1);
      return add_list(read_input_file(list, {kMaxListBytes, ""}), list);
    }
    std::error_code error;
    if (fs::is_directory(argument, error)) return add_directory(argument, true);
    out.push_back(argument);  // a file, or something that fails later as that input (missing, a loop)
  }

  // One path per line; blank lines and lines starting with '#' are skipped. Entries are taken
  // as given (a directory in a list is expanded like an argument). NUL-separated lists
  // (find -print0) take every non-empty entry as it is: any byte but NUL may be in a name.
  void add_list(const std::string& text, const std::string& name) {
    const char separator = options.null_separated ? '\0' : '\n';
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find(separator, start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      start = end + 1;
      if (!options.null_separated) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
      } else if (line.empty()) {
        continue;
      }
      if (line == "-" || line[0] == '@') fail(ErrorKind::Input, name + ": a list cannot name another list ('" + line + "')");
      add_argument(line);
    }
  }
};

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments, const InputOptions& options) {
  std::vector<std::string> out;
  Walk walk{options, out, {}};
  for (const std::string& argument : arguments) walk.add_argument(argument);
  return out;
}

}  // namespace perceiver::cli
