// The small models trained with perceiver-train and committed under models/ (models/README.md),
// so that tools have something to run on a fresh machine with no download.
#pragma once

#include <string>

namespace perceiver::cli {

// The folder of shipped model `name` (e.g. "byte-mlm"): models/<name> of the source tree this
// build came from. Empty when that folder has no config.json (e.g. the build moved elsewhere).
std::string shipped_model_dir(const std::string& name);

}  // namespace perceiver::cli
