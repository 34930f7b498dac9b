// Turning command-line arguments into a deterministic list of input files, the same way in
// every tool: files in argument order; a directory gives its files with a wanted extension,
// sorted by name (with `recursive`, sub-folders too, each sorted); "@list" reads one path per
// line from a file; "-" reads such a list from stdin. Paths that do not exist are kept, so the
// tool reports them as failed inputs in order instead of aborting the batch.
#pragma once

#include <string>
#include <vector>

namespace perceiver::cli {

struct InputOptions {
  bool recursive = false;
  std::vector<std::string> extensions;  // lower-case, with the dot: {".jpg", ".png"}; empty = all
};

std::vector<std::string> expand_inputs(const std::vector<std::string>& arguments, const InputOptions& options);

// The image extensions stb_image decodes.
const std::vector<std::string>& image_extensions();

}  // namespace perceiver::cli
