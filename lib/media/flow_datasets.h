// The pairs of the optical-flow benchmarks, read straight from their own folder layouts, so that
// perceiver-flow evaluates (and writes submission folders for) them without a list file:
//   MPI-Sintel:  <dir>/<pass>/<scene>/frame_NNNN.png, ground truth <dir>/flow/<scene>/frame_NNNN.flo
//                (the flow from frame N to N+1); <dir> is training/ or test/ (no flow/ there).
//   KITTI 2015:  <dir>/image_2/NNNNNN_10.png + NNNNNN_11.png, ground truth
//                <dir>/flow_occ/NNNNNN_10.png (all pixels) and <dir>/flow_noc/NNNNNN_10.png
//                (non-occluded), 16-bit KITTI flow PNGs; <dir> is training/ or testing/.
// Every listing is sorted by name, so the order (and a --shard of it) is the same everywhere.
#pragma once

#include <string>
#include <vector>

namespace perceiver {

struct FlowDatasetPair {
  std::string set;          // what the totals are about: "sintel/clean", "sintel/final", "kitti"
  std::string group;        // what a result line is about: "<pass>/<scene>" (Sintel) or "NNNNNN_10" (KITTI)
  std::string first, second;
  std::string truth;        // ground truth, empty when the split has none
  std::string truth_noc;    // KITTI's non-occluded ground truth, when present
  std::string output;       // where the estimate goes, relative to -o: "<pass>/<scene>/frame_NNNN.flo", "NNNNNN_10.png"
};

// The Sintel passes: "clean", "final", or "both" (clean, then final).
std::vector<std::string> sintel_passes(const std::string& pass);

// Every consecutive pair of frames of every scene of each pass. Error(Input) naming the folder
// when a pass folder is missing or holds no scene with two frames.
std::vector<FlowDatasetPair> sintel_pairs(const std::string& dir, const std::vector<std::string>& passes);

// Every NNNNNN_10.png of image_2/ with its NNNNNN_11.png (a missing file fails its pair when it
// is read). Error(Input) when image_2/ is missing or holds no first frame.
std::vector<FlowDatasetPair> kitti_pairs(const std::string& dir);

}  // namespace perceiver
