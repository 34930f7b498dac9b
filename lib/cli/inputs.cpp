#include "cli/inputs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/error.h"

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

void add_directory(const fs::path& dir, const InputOptions& options, std::vector<std::string>& out) {
  std::vector<fs::path> files, subdirs;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.is_directory(error)) subdirs.push_back(entry.path());
    else if (wanted(entry.path(), options)) files.push_back(entry.path());
  }
  if (error) fail(ErrorKind::Input, dir.string() + ": cannot list the directory (" + error.message() + ")");
  std::sort(files.begin(), files.end());
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& file : files) out.push_back(file.string());
  if (options.recursive)
    for (const auto& sub : subdirs) add_directory(sub, options, out);
}

void add_list(std::istream& in, const std::string& name, const InputOptions& options, std::vector<std::string>& out);

void add_argument(const std::string& argument, const InputOptions& options, std::vector<std::string>& out) {
  if (argument == "-") return add_list(std::cin, "standard input", options, out);
  if (argument.size() > 1 && argument[0] == '@') {
    std::ifstream list(argument.substr(1));
    if (!list) fail(ErrorKind::Input, argument.substr(1) + ": cannot open the list file");
    return add_list(list, argument.substr(1), options, out);
  }
  if (fs::is_directory(argument)) return add_directory(argument, options, out);
  out.push_back(argument);
}

// One path per line; blank lines and lines starting with '#' are skipped. Entries are taken as
// given (a directory in a list is expanded like an argument).
void add_list(std::istream& in, const std::string& name, const InputOptions& options, std::vector<std::string>& out) {
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (line == "-" || line[0] == '@') fail(ErrorKind::Input, name + ": a list cannot name another list ('" + line + "')");
    add_argument(line, options, out);
  }
}

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments, const InputOptions& options) {
  std::vector<std::string> out;
  for (const std::string& argument : arguments) add_argument(argument, options, out);
  return out;
}

}  // namespace perceiver::cli
