#include "media/flow_datasets.h"

#include <algorithm>
#include <filesystem>

#include "common/error.h"

namespace perceiver {

namespace fs = std::filesystem;

namespace {

// The sorted names in `dir` that pass `keep` (regular files or folders, as asked).
std::vector<std::string> sorted_names(const fs::path& dir, bool folders, bool (*keep)(const std::string&)) {
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    const bool is_folder = fs::is_directory(it->path(), error);
    if (is_folder == folders && keep(name)) names.push_back(name);
  }
  if (error) fail(ErrorKind::Input, dir.string() + ": cannot list the folder (" + error.message() + ")");
  std::sort(names.begin(), names.end());
  return names;
}

bool any_name(const std::string& name) { return !name.empty() && name[0] != '.'; }

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool sintel_frame(const std::string& name) { return name.rfind("frame_", 0) == 0 && ends_with(name, ".png"); }
bool kitti_first_frame(const std::string& name) { return ends_with(name, "_10.png"); }

void require_folder(const fs::path& dir, const std::string& what) {
  std::error_code error;
  if (!fs::is_directory(dir, error))
    fail(ErrorKind::Input, dir.string() + ": no such folder (" + what + ")");
}

}  // namespace

std::vector<std::string> sintel_passes(const std::string& pass) {
  if (pass == "both") return {"clean", "final"};
  if (pass == "clean" || pass == "final") return {pass};
  fail(ErrorKind::Usage, "--pass '" + pass + "': give clean, final or both");
}

std::vector<FlowDatasetPair> sintel_pairs(const std::string& dir, const std::vector<std::string>& passes) {
  const fs::path root(dir);
  const fs::path truth_root = root / "flow";
  std::error_code error;
  const bool has_truth = fs::is_directory(truth_root, error);
  std::vector<FlowDatasetPair> pairs;
  for (const std::string& pass : passes) {
    const fs::path pass_dir = root / pass;
    require_folder(pass_dir, "--sintel takes Sintel's training/ or test/ folder, which holds " + pass + "/<scene>/frame_NNNN.png");
    const size_t before = pairs.size();
    for (const std::string& scene : sorted_names(pass_dir, true, any_name)) {
      const std::vector<std::string> frames = sorted_names(pass_dir / scene, false, sintel_frame);
      for (size_t i = 0; i + 1 < frames.size(); ++i) {
        FlowDatasetPair pair;
        pair.set = "sintel/" + pass;
        pair.group = pass + "/" + scene;
        pair.first = (pass_dir / scene / frames[i]).string();
        pair.second = (pass_dir / scene / frames[i + 1]).string();
        const std::string flo = fs::path(frames[i]).stem().string() + ".flo";
        if (has_truth) pair.truth = (truth_root / scene / flo).string();
        pair.output = (fs::path(pass) / scene / flo).string();
        pairs.push_back(std::move(pair));
      }
    }
    if (pairs.size() == before)
      fail(ErrorKind::Input, pass_dir.string() + ": no scene folder holds two frames (frame_NNNN.png)");
  }
  return pairs;
}

std::vector<FlowDatasetPair> kitti_pairs(const std::string& dir) {
  const fs::path root(dir);
  const fs::path images = root / "image_2";
  require_folder(images, "--kitti takes KITTI 2015's training/ or testing/ folder, which holds image_2/NNNNNN_10.png");
  std::error_code error;
  const bool has_occ = fs::is_directory(root / "flow_occ", error);
  const bool has_noc = fs::is_directory(root / "flow_noc", error);
  std::vector<FlowDatasetPair> pairs;
  for (const std::string& name : sorted_names(images, false, kitti_first_frame)) {
    const std::string id = name.substr(0, name.size() - std::string("_10.png").size());
    FlowDatasetPair pair;
    pair.set = "kitti";
    pair.group = id + "_10";
    pair.first = (images / name).string();
    pair.second = (images / (id + "_11.png")).string();
    if (has_occ) pair.truth = (root / "flow_occ" / name).string();
    if (has_noc) pair.truth_noc = (root / "flow_noc" / name).string();
    pair.output = name;
    pairs.push_back(std::move(pair));
  }
  if (pairs.empty()) fail(ErrorKind::Input, images.string() + ": holds no NNNNNN_10.png frame");
  return pairs;
}

}  // namespace perceiver
