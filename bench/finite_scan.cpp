// What a check of every weight for NaN or infinity at load would cost (docs/batch.md, "Hostile
// surroundings"): maps a safetensors file as the loader does, counts the non-finite values of
// its float tensors, and prints one JSON line with the time, next to the load time of the same
// file through the model loader, for comparison.
//   finite-scan FILE.safetensors [--runs N]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "checkpoint/safetensors.h"

using namespace perceiver;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: finite-scan FILE.safetensors [--runs N]\n");
    return 2;
  }
  const std::string path = argv[1];
  const int runs = argc >= 4 && std::string(argv[2]) == "--runs" ? std::stoi(argv[3]) : 3;
  double best = 1e30;
  int64_t values = 0, non_finite = 0;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const SafetensorsFile file = read_safetensors(path);
    values = non_finite = 0;
    for (const auto& [name, tensor] : file.tensors) {
      if (tensor.dtype() != DType::F32) continue;
      const float* v = tensor.data<float>();
      int64_t bad = 0;
      for (int64_t i = 0; i < tensor.numel(); ++i) bad += !std::isfinite(v[i]);
      values += tensor.numel();
      non_finite += bad;
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  const nlohmann::json out = {{"file", path},        {"f32_values", values},          {"non_finite", non_finite},
                              {"seconds_best", best}, {"gb_per_second", values * 4 / best / 1e9}, {"runs", runs}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
