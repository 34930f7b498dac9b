// The small models trained with perceiver-train and committed under models/ (models/README.md),
// so that tools have something to run on a fresh machine with no download.
//
// Where the tools find them, in order (docs/install.md):
//   1. <folder of the running program>/../share/perceiver/models/<name>: an installed prefix
//      (P/bin/perceiver-mlm → P/share/perceiver/models/), and the build tree, where the
//      configure step links build/share/perceiver/models to the source tree's models/
//      (build/apps/perceiver-mlm → build/share/perceiver/models/);
//   2. $PERCEIVER_MODELS_DIR/<name>, for a tool copied somewhere on its own.
// A folder counts when it holds config.json.
#pragma once

#include <string>
#include <vector>

namespace perceiver::cli {

// The folders looked in for shipped model `name`, in order (those that cannot be formed, e.g.
// with PERCEIVER_MODELS_DIR unset, are left out).
std::vector<std::string> shipped_model_candidates(const std::string& name);

// The first candidate holding config.json, or empty.
std::string shipped_model_dir(const std::string& name);

// "looked in A and B" (or "… and PERCEIVER_MODELS_DIR is not set") for a message.
std::string shipped_model_search_text(const std::string& name);

}  // namespace perceiver::cli
