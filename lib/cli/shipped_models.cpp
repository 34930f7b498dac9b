#include "cli/shipped_models.h"

#include <cstdlib>
#include <filesystem>

namespace perceiver::cli {

namespace fs = std::filesystem;

namespace {

constexpr const char* kModelsVariable = "PERCEIVER_MODELS_DIR";

// The folder of the running program (Linux: /proc/self/exe, symlinks resolved), or empty.
fs::path program_folder() {
  std::error_code error;
  const fs::path program = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : program.parent_path();
}

}  // namespace

std::vector<std::string> shipped_model_candidates(const std::string& name) {
  std::vector<std::string> candidates;
  if (const fs::path folder = program_folder(); !folder.empty())
    candidates.push_back((folder.parent_path() / "share" / "perceiver" / "models" / name).lexically_normal().string());
  if (const char* models = std::getenv(kModelsVariable); models && *models)
    candidates.push_back((fs::path(models) / name).string());
  return candidates;
}

std::string shipped_model_dir(const std::string& name) {
  for (const std::string& candidate : shipped_model_candidates(name)) {
    std::error_code error;
    if (fs::is_regular_file(fs::path(candidate) / "config.json", error)) return candidate;
  }
  return {};
}

std::string shipped_model_search_text(const std::string& name) {
  std::string text = "looked in";
  const std::vector<std::string> candidates = shipped_model_candidates(name);
  for (size_t i = 0; i < candidates.size(); ++i) text += (i ? " and " : " ") + candidates[i];
  const char* models = std::getenv(kModelsVariable);
  if (!models || !*models) text += std::string(candidates.empty() ? " nothing" : "") + "; " + kModelsVariable + " is not set";
  return text;
}

}  // namespace perceiver::cli
