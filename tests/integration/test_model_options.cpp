// The options every tool shares for its model: --precision, and the weights-file limits
// --max-header-bytes / --max-tensors, whose errors name the flag (exit 9).
#include <doctest/doctest.h>

#include <cmath>

#include "checkpoint/safetensors.h"
#include "cli/exit_codes.h"
#include "kernels/runtime.h"
#include "support/test_support.h"

using namespace perceiver;

namespace {

std::string run_case(const std::string& model, const std::string& flags) {
  const std::string dir = test::golden_dir() + "/mlm";
  return test::bin_dir() + "/perceiver-run -m " + model + " -i " + dir + "/inputs.safetensors -o " + test::temp_dir() +
         "/out.safetensors " + flags;
}

}  // namespace

TEST_CASE("weights-file limits: exceeding one is exit 9 naming the flag, for every weights format") {
  const std::string golden = test::golden_dir() + "/mlm";
  const std::string bin = test::data_dir() + "/bin_fixtures/mlm";
  const std::string sharded = test::data_dir() + "/bin_fixtures/sharded";
  for (const std::string& model : {golden, bin, sharded}) {
    CAPTURE(model);
    const auto header = test::run_command(run_case(model, "--max-header-bytes 64"));
    CHECK(header.exit_code == cli::kExitLimit);
    CHECK(header.err.find("--max-header-bytes") != std::string::npos);
    CHECK(header.err.find('\n') == header.err.size() - 1);  // one line
    const auto tensors = test::run_command(run_case(model, "--max-tensors 3"));
    CHECK(tensors.exit_code == cli::kExitLimit);
    CHECK(tensors.err.find("--max-tensors") != std::string::npos);
    if (model != sharded)  // the sharded fixture is another model, not the MLM these inputs are for
      CHECK(test::run_command(run_case(model, "--max-tensors 100000")).exit_code == 0);
  }
  // The tools take the same flags.
  const auto classify = test::run_command(test::bin_dir() + "/perceiver-classify -m " + test::golden_dir() +
                                          "/vision_conv --max-tensors 2 " + test::golden_dir() +
                                          "/image_processor/*.png");
  CHECK(classify.exit_code == cli::kExitLimit);
  CHECK(classify.err.find("(raise it with --max-tensors)") != std::string::npos);
  CHECK(test::run_command(test::bin_dir() + "/perceiver-mlm -m " + golden + " --max-header-bytes 0", "a [MASK]").exit_code ==
        cli::kExitUsage);
}

TEST_CASE("--precision: bf16 through perceiver-run stays near the golden outputs, bad values are usage errors") {
  CHECK(test::run_command(run_case(test::golden_dir() + "/mlm", "--precision fp8")).exit_code ==
        cli::kExitUsage);
  const std::string out = test::temp_dir() + "/bf16.safetensors";
  const std::string dir = test::golden_dir() + "/mlm";
  const auto r = test::run_command(test::bin_dir() + "/perceiver-run -m " + dir + " -i " + dir +
                                   "/inputs.safetensors -o " + out + " --precision bf16");
  if (!kernels::cpu_has_bf16()) {
    CHECK(r.exit_code == cli::kExitUsage);
    CHECK(r.err.find("AVX512_BF16") != std::string::npos);
    return;
  }
  REQUIRE(r.exit_code == 0);
  const Tensor expected = test::read_tensors(dir + "/outputs.safetensors").at("logits");
  const Tensor actual = test::read_tensors(out).at("logits");
  double scale = 0;
  for (int64_t i = 0; i < expected.numel(); ++i) scale = std::max(scale, std::fabs(double(expected.data<float>()[i])));
  const double diff = test::max_abs_diff(expected, actual);
  CHECK(diff > 0);  // bf16 really ran
  CHECK(diff / scale < 0.05);
  // The environment variable does the same.
  const auto env = test::run_command("PERCEIVER_PRECISION=bf16 " + test::bin_dir() + "/perceiver-mlm -m " + dir,
                                     "The [MASK:3] sat.");
  CHECK(env.exit_code == 0);
}
