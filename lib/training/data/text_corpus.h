// A folder of text files as a byte-level language-modelling corpus: every UTF-8 text file under
// the folder, in a fixed order, split file by file into a training stream and a held-out stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace perceiver::training {

struct TextCorpus {
  std::vector<std::string> train_paths, held_out_paths;  // in the order their bytes appear
  // The files' bytes concatenated, each file followed by "\n\n" (so no window silently joins the
  // last word of one file to the first word of the next).
  std::string train, held_out;
  int64_t skipped_files = 0;  // empty, not valid UTF-8, or containing a NUL byte

  // "N train files (X bytes), M held-out files (Y bytes)".
  std::string describe() const;
};

// Walks `folder` recursively (regular files only; symlinked files are followed, symlinked folders
// are not), sorted by full path byte by byte. Empty files, files that are not valid UTF-8 and
// files containing a NUL byte are skipped and counted, not errors. The i-th kept file (0-based)
// is held out when i % held_out_every == held_out_every - 1, so about one file in held_out_every
// is held out and the split does not depend on file sizes. With max_bytes > 0, no further file is
// added once train.size() + held_out.size() >= max_bytes (the last file is not cut).
// Errors: Error(Input) "<folder>: not a folder", "<folder>: no UTF-8 text files",
// "<folder>: no held-out file (needs at least N files)" when nothing was held out,
// "<path>: cannot read the file"; Error(Usage) when held_out_every < 2 or max_bytes < 0.
TextCorpus load_text_corpus(const std::string& folder, int64_t held_out_every = 20, int64_t max_bytes = 0);

// True when `bytes` is well-formed UTF-8 (Unicode §3.9: no overlong forms, no surrogates, nothing
// above U+10FFFF). Exposed for the tests.
bool is_valid_utf8(std::string_view bytes);

}  // namespace perceiver::training
