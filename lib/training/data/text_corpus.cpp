#include "training/data/text_corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "common/error.h"
#include "media/byte_tokenizer.h"

namespace perceiver::training {

namespace fs = std::filesystem;

namespace {

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::Input, path + ": cannot read the file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(ErrorKind::Input, path + ": cannot read the file");
  return bytes;
}

// Every regular file under `folder`, sorted by path as raw bytes (std::string's ordering), so the
// order — and hence the split — is the same whatever the file system or locale.
std::vector<std::string> sorted_regular_files(const std::string& folder) {
  std::vector<std::string> paths;
  std::error_code error;
  fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    std::error_code type_error;
    if (it->is_regular_file(type_error)) paths.push_back(it->path().string());
  }
  if (error) fail(ErrorKind::Input, folder + ": cannot list the folder (" + error.message() + ")");
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  // The tokenizer's decoder already knows well-formed UTF-8: a text is valid when it replaces nothing.
  return tokenizer::utf8_replace_invalid(bytes) == bytes;
}

std::string TextCorpus::describe() const {
  return std::to_string(train_paths.size()) + " train files (" + std::to_string(train.size()) + " bytes), " +
         std::to_string(held_out_paths.size()) + " held-out files (" + std::to_string(held_out.size()) + " bytes)";
}

TextCorpus load_text_corpus(const std::string& folder, int64_t held_out_every, int64_t max_bytes) {
  if (held_out_every < 2)
    fail(ErrorKind::Usage, "load_text_corpus: held_out_every must be at least 2, not " + std::to_string(held_out_every));
  if (max_bytes < 0) fail(ErrorKind::Usage, "load_text_corpus: max_bytes must not be negative");
  std::error_code error;
  if (!fs::is_directory(folder, error)) fail(ErrorKind::Input, folder + ": not a folder");

  TextCorpus corpus;
  int64_t kept = 0;
  for (const std::string& path : sorted_regular_files(folder)) {
    if (max_bytes > 0 && static_cast<int64_t>(corpus.train.size() + corpus.held_out.size()) >= max_bytes) break;
    const std::string bytes = read_file_bytes(path);
    if (bytes.empty() || bytes.find('\0') != std::string::npos || !is_valid_utf8(bytes)) {
      ++corpus.skipped_files;
      continue;
    }
    const bool held_out = kept % held_out_every == held_out_every - 1;
    std::string& stream = held_out ? corpus.held_out : corpus.train;
    (held_out ? corpus.held_out_paths : corpus.train_paths).push_back(path);
    stream += bytes;
    stream += "\n\n";
    ++kept;
  }
  if (kept == 0) fail(ErrorKind::Input, folder + ": no UTF-8 text files");
  if (corpus.held_out_paths.empty())
    fail(ErrorKind::Input, folder + ": no held-out file (needs at least " + std::to_string(held_out_every) + " files)");
  return corpus;
}

}  // namespace perceiver::training
