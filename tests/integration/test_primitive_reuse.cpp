// Hot paths create their oneDNN primitives once: a second forward pass of the same shapes must
// not create any (kernels::primitives_created counts every creation).
#include <doctest/doctest.h>

#include <filesystem>

#include "kernels/runtime.h"
#include "models/registry.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

TEST_CASE("repeated forward passes reuse their primitives") {
  for (const std::string& dir : test::golden_model_cases()) {
    CAPTURE(fs::path(dir).filename().string());
    const auto model = load_raw_model(dir);
    const auto inputs = test::read_tensors(dir + "/inputs.safetensors");
    const int64_t before_first = kernels::primitives_created();
    const Tensor first = model->run(inputs).at(0).second;
    const int64_t after_first = kernels::primitives_created();
    CHECK(after_first > before_first);  // the counter sees the creations
    const Tensor second = model->run(inputs).at(0).second;
    const Tensor third = model->run(inputs).at(0).second;
    CHECK(kernels::primitives_created() == after_first);
    CHECK(test::max_abs_diff(first, third) == 0.0);
  }
}
