// bf16 precision against the golden f32 reference: every golden model run with bf16 matrix
// products must stay within a bound relative to its output scale, and its class decisions
// (argmax over the last axis of logits) must mostly agree. The measured values are printed
// (docs/benchmarks.md quotes them: `perceiver-tests -tc='bf16*' -s`).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "kernels/runtime.h"
#include "models/registry.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

// Restores f32 however the test leaves.
struct PrecisionScope {
  explicit PrecisionScope(kernels::Precision p) { kernels::set_precision(p); }
  ~PrecisionScope() { kernels::set_precision(kernels::Precision::F32); }
};

double max_abs(const Tensor& t) {
  double m = 0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::fabs(static_cast<double>(t.data<float>()[i])));
  return m;
}

// Fraction of rows (over the last axis) whose largest entry is at the same index.
double argmax_agreement(const Tensor& a, const Tensor& b) {
  const int64_t width = a.shape().back(), rows = a.numel() / width;
  int64_t same = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = a.data<float>() + r * width;
    const float* y = b.data<float>() + r * width;
    same += std::max_element(x, x + width) - x == std::max_element(y, y + width) - y;
  }
  return rows ? static_cast<double>(same) / rows : 1.0;
}

}  // namespace

TEST_CASE("bf16 precision stays within its bound on every golden case") {
  if (!kernels::cpu_has_bf16()) {
    MESSAGE("this CPU has no AVX512_BF16: bf16 is refused, checked below");
    test::expect_error([] { kernels::set_precision(kernels::Precision::BF16); }, ErrorKind::Usage, "bf16",
                       "AVX512_BF16");
    return;
  }
  for (const std::string& dir : test::golden_model_cases()) {
    const std::string name = fs::path(dir).filename().string();
    const auto inputs = test::read_tensors(dir + "/inputs.safetensors");
    const auto expected = test::read_tensors(dir + "/outputs.safetensors");
    NamedTensors outputs;
    {
      PrecisionScope bf16(kernels::Precision::BF16);
      outputs = load_raw_model(dir)->run(inputs);
    }
    for (const auto& [output, value] : outputs) {
      const Tensor& reference = expected.at(output);
      const double relative = test::max_abs_diff(value, reference) / max_abs(reference);
      // Class scores: the classifiers', the MLM's and the multimodal label head; flow, audio and
      // image outputs are regressions, where argmax means nothing.
      const bool is_logits = name != "flow" && (output == "logits" || output == "logits.label");
      const double agreement = is_logits ? argmax_agreement(value, reference) : 1.0;
      MESSAGE(name << " " << output << ": bf16 max |diff| / max |f32| = " << relative
                   << (is_logits ? ", argmax agreement " + std::to_string(agreement) : std::string()));
      CAPTURE(name);
      CAPTURE(output);
      CHECK(relative < 0.05);
      CHECK(agreement >= 0.9);
    }
  }
}

TEST_CASE("bf16 kernels are really used: results differ from f32 but only slightly") {
  if (!kernels::cpu_has_bf16()) return;
  const std::string dir = test::golden_dir() + "/mlm";
  const auto inputs = test::read_tensors(dir + "/inputs.safetensors");
  const Tensor f32 = load_raw_model(dir)->run(inputs).at(0).second;
  Tensor bf16;
  {
    PrecisionScope scope(kernels::Precision::BF16);
    bf16 = load_raw_model(dir)->run(inputs).at(0).second;
  }
  const double diff = test::max_abs_diff(f32, bf16);
  CHECK(diff > 1e-5);  // bf16 rounding leaves a trace: the precision switch did something
  CHECK(diff / max_abs(f32) < 0.05);
}
