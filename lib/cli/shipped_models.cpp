#include "cli/shipped_models.h"

#include <filesystem>

namespace perceiver::cli {

std::string shipped_model_dir(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(PERCEIVER_MODELS_DIR) / name;
  std::error_code error;
  return std::filesystem::is_regular_file(dir / "config.json", error) ? dir.string() : std::string();
}

}  // namespace perceiver::cli
