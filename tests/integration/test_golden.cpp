// The golden cases of the reference implementation (tests/data/golden, copied from
// shared/golden): every case whose architecture the library supports must match within the
// case's tolerance (meta.json), through the library API and through the perceiver-run binary.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "models/registry.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

nlohmann::json read_meta(const std::string& case_dir) {
  return nlohmann::json::parse(test::read_text(case_dir + "/meta.json"));
}

// Compares every expected output; prints the max difference against the tolerance.
void check_outputs(const std::string& label, const nlohmann::json& meta, const std::map<std::string, Tensor>& expected,
                   const std::map<std::string, Tensor>& actual) {
  for (const auto& [name, reference] : expected) {
    CAPTURE(label);
    CAPTURE(name);
    auto it = actual.find(name);
    REQUIRE_MESSAGE(it != actual.end(), "output missing: " << name);
    REQUIRE(it->second.shape() == reference.shape());
    const double tolerance = meta["outputs"][name]["tolerance_max_abs_diff"].get<double>();
    const double diff = test::max_abs_diff(it->second, reference);
    MESSAGE(label << " " << name << ": max |diff| " << diff << " (tolerance " << tolerance << ")");
    CHECK(diff <= tolerance);
  }
}

}  // namespace

TEST_CASE("golden cases through the library API") {
  const auto cases = test::golden_model_cases();
  REQUIRE(!cases.empty());
  bool saw_mlm = false;
  for (const std::string& dir : cases) {
    saw_mlm = saw_mlm || fs::path(dir).filename() == "mlm";
    const auto model = load_raw_model(dir);
    const auto inputs = test::read_tensors(dir + "/inputs.safetensors");
    std::map<std::string, Tensor> intermediates;
    const Trace trace = [&](const std::string& name, const Tensor& value) { intermediates[name] = value.clone(); };
    NamedTensors outputs = model->run(inputs, &trace);
    check_outputs(fs::path(dir).filename().string(), read_meta(dir), test::read_tensors(dir + "/outputs.safetensors"),
                  {outputs.begin(), outputs.end()});

    // Intermediates are not part of the pass rule; a loose check localises a failure.
    for (const auto& [name, reference] : test::read_tensors(dir + "/intermediates.safetensors")) {
      auto it = intermediates.find(name);
      if (it == intermediates.end()) continue;
      CAPTURE(name);
      REQUIRE(it->second.shape() == reference.shape());
      const double scale = std::max(1e-3, test::max_abs_diff(reference, Tensor::f32(reference.shape())));
      CHECK(test::max_abs_diff(it->second, reference) / scale < 1e-4);
    }
  }
  CHECK(saw_mlm);
}

TEST_CASE("golden cases through perceiver-run") {
  for (const std::string& dir : test::golden_model_cases()) {
    const std::string out = test::temp_dir() + "/outputs.safetensors";
    const auto result = test::run_command(test::bin_dir() + "/perceiver-run -m " + dir + " -i " + dir +
                                          "/inputs.safetensors -o " + out + " -t 2");
    CAPTURE(result.err);
    REQUIRE(result.exit_code == 0);
    check_outputs("perceiver-run " + fs::path(dir).filename().string(), read_meta(dir),
                  test::read_tensors(dir + "/outputs.safetensors"), test::read_tensors(out));
  }
}
