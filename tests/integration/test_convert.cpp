// pytorch_model.bin folders in every tool, perceiver-convert, and scripts/get-model.sh (through a
// file:// mirror: the tests have no network). The .bin fixtures (tests/data/bin_fixtures) are
// the golden models written with torch.save by fixtures/make_bin_fixtures.py.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "models/registry.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string fixtures() { return test::data_dir() + "/bin_fixtures"; }
std::string repo_root() { return fs::path(test::data_dir()).parent_path().parent_path().string(); }

std::map<std::string, Tensor> read_tensors(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  return {file.tensors.begin(), file.tensors.end()};
}

struct Case {
  std::string name;     // golden case
  std::string golden;   // its folder
  std::string bin;      // the .bin fixture folder with the same model
};

// Golden cases whose architecture the library supports, with their .bin fixture folder.
std::vector<Case> supported_cases() {
  const auto map = nlohmann::json::parse(test::read_text(fixtures() + "/cases.json"));
  std::vector<Case> cases;
  for (const auto& entry : fs::directory_iterator(test::golden_dir())) {
    const fs::path config = entry.path() / "config.json";
    if (!fs::exists(config) || !fs::exists(entry.path() / "outputs.safetensors")) continue;
    const std::string architecture = load_config(config.string()).architecture;
    const auto& supported = supported_architectures();
    if (std::find(supported.begin(), supported.end(), architecture) == supported.end()) continue;
    const std::string name = entry.path().filename().string();
    REQUIRE_MESSAGE(map.contains(name), "no .bin fixture for golden case " << name << " (run fixtures/make_bin_fixtures.py)");
    cases.push_back({name, entry.path().string(), fixtures() + "/" + map[name].get<std::string>()});
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

double tolerance(const Case& c, const std::string& output) {
  const auto meta = nlohmann::json::parse(test::read_text(c.golden + "/meta.json"));
  return meta["outputs"][output]["tolerance_max_abs_diff"].get<double>();
}

std::map<std::string, Tensor> run_model(const std::string& model_dir, const std::string& inputs_path) {
  const auto model = load_raw_model(model_dir);
  NamedTensors outputs = model->run(read_tensors(inputs_path));
  return {outputs.begin(), outputs.end()};
}

double max_abs(const Tensor& t) { return test::max_abs_diff(t, Tensor::f32(t.shape())); }

// Every reference output is matched within `allowed(name, reference)`.
template <typename Allowed>
void check_outputs(const std::string& label, const std::map<std::string, Tensor>& reference,
                   const std::map<std::string, Tensor>& actual, Allowed allowed) {
  for (const auto& [name, expected] : reference) {
    CAPTURE(label);
    CAPTURE(name);
    const auto it = actual.find(name);
    REQUIRE_MESSAGE(it != actual.end(), "output missing: " << name);
    REQUIRE(it->second.shape() == expected.shape());
    const double diff = test::max_abs_diff(it->second, expected);
    const double limit = allowed(name, expected);
    MESSAGE(label << " " << name << ": max |diff| " << diff << " (allowed " << limit << ")");
    CHECK(diff <= limit);
  }
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

std::string convert_command(const std::string& args) { return test::bin_dir() + "/perceiver-convert " + args; }

}  // namespace

TEST_CASE("pytorch_model.bin folders give bit-identical outputs to the same weights in safetensors") {
  const auto cases = supported_cases();
  REQUIRE(cases.size() >= 6);
  for (const Case& c : cases) {
    const auto from_bin = run_model(c.bin, c.golden + "/inputs.safetensors");
    const auto from_safetensors = run_model(c.golden, c.golden + "/inputs.safetensors");
    check_outputs(c.name + " .bin vs safetensors", from_safetensors, from_bin, [](auto&, auto&) { return 0.0; });
    check_outputs(c.name + " .bin vs reference", read_tensors(c.golden + "/outputs.safetensors"), from_bin,
                  [&](const std::string& name, const Tensor&) { return tolerance(c, name); });
  }
}

TEST_CASE("perceiver-run reads pytorch_model.bin folders") {
  for (const Case& c : supported_cases()) {
    const std::string out = test::temp_dir() + "/outputs.safetensors";
    const auto result = test::run_command(test::bin_dir() + "/perceiver-run -m " + c.bin + " -i " + c.golden +
                                          "/inputs.safetensors -o " + out + " -t 2");
    CAPTURE(result.err);
    REQUIRE(result.exit_code == 0);
    check_outputs("perceiver-run " + c.name, read_tensors(c.golden + "/outputs.safetensors"), read_tensors(out),
                  [&](const std::string& name, const Tensor&) { return tolerance(c, name); });
  }
}

TEST_CASE("a sharded pytorch_model.bin.index.json folder runs like the single file") {
  const std::string golden = test::golden_dir() + "/vision_conv";
  const auto sharded = run_model(fixtures() + "/sharded", golden + "/inputs.safetensors");
  const auto single = run_model(golden, golden + "/inputs.safetensors");
  check_outputs("sharded", single, sharded, [](auto&, auto&) { return 0.0; });
}

TEST_CASE("perceiver-run: a hostile pytorch_model.bin exits 4 with the file named") {
  const std::string dir = test::temp_dir();
  fs::copy_file(test::golden_dir() + "/vision_conv/config.json", dir + "/config.json");
  fs::copy_file(fixtures() + "/hostile/global_os_system.bin", dir + "/pytorch_model.bin");
  const auto result = test::run_command(test::bin_dir() + "/perceiver-run -m " + dir + " -i " + test::golden_dir() +
                                        "/vision_conv/inputs.safetensors -o " + dir + "/out.safetensors");
  CHECK(result.exit_code == 4);
  CHECK(result.err.find("perceiver-run: error: " + dir + "/pytorch_model.bin: ") == 0);
  CHECK(result.err.find("global 'os.system' is not allowed") != std::string::npos);
  CHECK(!fs::exists(dir + "/out.safetensors"));
}

TEST_CASE("perceiver-convert: .bin -> safetensors holds the same tensors and runs to the same outputs") {
  for (const Case& c : supported_cases()) {
    CAPTURE(c.name);
    const std::string out = test::temp_dir() + "/converted";
    const auto result = test::run_command(convert_command("-m " + c.bin + " -o " + out));
    CAPTURE(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.out.find("verified") != std::string::npos);
    CHECK(test::read_text(out + "/config.json") == test::read_text(c.bin + "/config.json"));
    const SafetensorsFile converted = read_safetensors(out + "/model.safetensors");
    CHECK(converted.metadata.at("format") == "pt");
    const SafetensorsFile reference = read_safetensors(c.golden + "/model.safetensors");
    REQUIRE(converted.tensors.size() == reference.tensors.size());
    for (const auto& [name, tensor] : reference.tensors) {
      CAPTURE(name);
      const Tensor* got = converted.find(name);
      REQUIRE(got != nullptr);
      CHECK(same_bytes(*got, tensor));
    }
    const std::string outputs = test::temp_dir() + "/outputs.safetensors";
    const auto run = test::run_command(test::bin_dir() + "/perceiver-run -m " + out + " -i " + c.golden +
                                       "/inputs.safetensors -o " + outputs + " -t 2");
    CAPTURE(run.err);
    REQUIRE(run.exit_code == 0);
    check_outputs("converted " + c.name, read_tensors(c.golden + "/outputs.safetensors"), read_tensors(outputs),
                  [&](const std::string& name, const Tensor&) { return tolerance(c, name); });
  }
}

TEST_CASE("perceiver-convert --dtype f16 / bf16: floats stored narrow, integers stay I64, the model still runs") {
  // Rounding every weight to 11 (f16) or 8 (bf16) significant bits moves the outputs by a small
  // fraction of their scale: the bound is relative to the largest reference output.
  const std::map<std::string, std::pair<DType, double>> variants = {{"f16", {DType::F16, 0.01}},
                                                                    {"bf16", {DType::BF16, 0.05}}};
  for (const Case& c : supported_cases()) {
    for (const auto& [flag, expected] : variants) {
      const auto& [dtype, relative] = expected;
      CAPTURE(c.name);
      CAPTURE(flag);
      const std::string out = test::temp_dir() + "/narrow";
      const auto result = test::run_command(convert_command("-m " + c.bin + " -o " + out + " --dtype " + flag));
      CAPTURE(result.err);
      REQUIRE(result.exit_code == 0);
      const SafetensorsFile converted = read_safetensors(out + "/model.safetensors");
      const SafetensorsFile reference = read_safetensors(c.golden + "/model.safetensors");
      for (const auto& [name, tensor] : converted.tensors) {
        CAPTURE(name);
        const Tensor* original = reference.find(name);
        REQUIRE(original != nullptr);
        CHECK(tensor.dtype() == (original->dtype() == DType::I64 ? DType::I64 : dtype));
        if (tensor.dtype() == DType::I64) CHECK(same_bytes(tensor, *original));
      }
      const auto outputs = run_model(out, c.golden + "/inputs.safetensors");
      check_outputs(c.name + " " + flag, read_tensors(c.golden + "/outputs.safetensors"), outputs,
                    [&](const std::string&, const Tensor& reference_output) {
                      return relative * std::max(1e-3, max_abs(reference_output));
                    });
    }
  }
}

TEST_CASE("perceiver-convert: safetensors sources, in-place conversion and side files") {
  // A safetensors folder with a processor config, converted in place to bf16 and back to f32.
  const std::string dir = test::temp_dir() + "/model";
  fs::create_directories(dir);
  for (const char* file : {"config.json", "model.safetensors"})
    fs::copy_file(test::golden_dir() + "/vision_fourier/" + file, dir + "/" + file);
  test::write_text(dir + "/preprocessor_config.json", "{\"size\": 224}\n");
  const std::string out = test::temp_dir() + "/out";
  auto result = test::run_command(convert_command("-m " + dir + " -o " + out + " --dtype bf16 -q"));
  CAPTURE(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.empty());
  CHECK(test::read_text(out + "/preprocessor_config.json") == "{\"size\": 224}\n");
  result = test::run_command(convert_command("-m " + out + " -o " + out));  // in place, back to F32
  REQUIRE(result.exit_code == 0);
  const SafetensorsFile widened = read_safetensors(out + "/model.safetensors");
  for (const auto& [name, tensor] : widened.tensors) CHECK(tensor.dtype() == DType::F32);
  // Sharded .bin source.
  const std::string from_shards = test::temp_dir() + "/from_shards";
  result = test::run_command(convert_command("-m " + fixtures() + "/sharded -o " + from_shards));
  CAPTURE(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(read_safetensors(from_shards + "/model.safetensors").tensors.size() ==
        read_safetensors(test::golden_dir() + "/vision_conv/model.safetensors").tensors.size());
  for (const auto& entry : fs::directory_iterator(from_shards))  // no temporary files left behind
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
}

TEST_CASE("perceiver-convert: errors and exit codes") {
  const std::string dir = test::temp_dir();
  auto result = test::run_command(convert_command(""));
  CHECK(result.exit_code == 2);
  result = test::run_command(convert_command("-m " + dir + " -o " + dir + "/out --dtype f64"));
  CHECK(result.exit_code == 2);
  result = test::run_command(convert_command("-m " + dir + "/nowhere -o " + dir + "/out"));
  CHECK(result.exit_code == 3);
  CHECK(result.err.find("no such model folder") != std::string::npos);
  result = test::run_command(convert_command("-m " + dir + " -o " + dir + "/out"));  // no config.json
  CHECK(result.exit_code == 3);
  CHECK(result.err.find(dir + "/config.json: no such file") != std::string::npos);
  test::write_text(dir + "/config.json", "{}");
  result = test::run_command(convert_command("-m " + dir + " -o " + dir + "/out"));  // no weights
  CHECK(result.exit_code == 3);
  CHECK(result.err.find("no weights in the folder") != std::string::npos);
  fs::copy_file(fixtures() + "/hostile/storage_too_short.bin", dir + "/pytorch_model.bin");
  result = test::run_command(convert_command("-m " + dir + " -o " + dir + "/out"));
  CHECK(result.exit_code == 4);
  CHECK(result.err.find("perceiver-convert: error: " + dir + "/pytorch_model.bin: storage '0'") == 0);
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  CHECK(!fs::exists(dir + "/out/model.safetensors"));
}

// ---- scripts/get-model.sh ---------------------------------------------------------------------

TEST_CASE("get-model.sh: syntax, usage errors and the list of models") {
  const std::string script = repo_root() + "/scripts/get-model.sh";
  CHECK(test::run_command("bash -n " + script).exit_code == 0);
  auto result = test::run_command("bash " + script);
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("usage: get-model.sh") != std::string::npos);
  CHECK(result.err.find("no model NAME given") != std::string::npos);
  result = test::run_command("bash " + script + " vision-perceiver");
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("unknown model 'vision-perceiver' (one of: language-perceiver vision-perceiver-learned "
                        "vision-perceiver-fourier vision-perceiver-conv optical-flow-perceiver multimodal-perceiver)") !=
        std::string::npos);
  result = test::run_command("bash " + script + " language-perceiver a b");
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("too many arguments") != std::string::npos);
  result = test::run_command("bash " + script + " --bogus");
  CHECK(result.exit_code == 2);
  result = test::run_command("bash " + script + " --help");
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("multimodal-perceiver") != std::string::npos);
}

TEST_CASE("get-model.sh: no network is a clear error with exit code 3") {
  const std::string script = repo_root() + "/scripts/get-model.sh";
  const std::string dest = test::temp_dir() + "/language-perceiver";
  // Port 9 (discard) on the loopback interface: nothing listens there, the connection is refused
  // (no_proxy keeps a proxy configured in the environment out of the way).
  const auto result =
      test::run_command("no_proxy='*' NO_PROXY='*' HF_ENDPOINT=http://127.0.0.1:9 bash " + script +
                        " language-perceiver " + dest);
  CHECK(result.exit_code == 3);
  CHECK(result.err.find("cannot reach http://127.0.0.1:9") != std::string::npos);
  CHECK(result.err.find("run the same command again to resume") != std::string::npos);
  CHECK(!fs::exists(dest + "/config.json"));
}

TEST_CASE("get-model.sh: a download from a mirror (resumed from a partial file) runs") {
  // A file:// mirror laid out like the hub: <endpoint>/deepmind/<name>/resolve/main/<file>.
  const std::string script = repo_root() + "/scripts/get-model.sh";
  const std::string mirror = test::temp_dir();
  const std::string repo = mirror + "/deepmind/vision-perceiver-conv/resolve/main";
  fs::create_directories(repo);
  const std::string golden = test::golden_dir() + "/vision_conv";
  fs::copy_file(golden + "/config.json", repo + "/config.json");
  fs::copy_file(fixtures() + "/vision_conv/pytorch_model.bin", repo + "/pytorch_model.bin");
  test::write_text(repo + "/preprocessor_config.json", "{\"size\": 224}\n");
  const std::string dest = test::temp_dir() + "/vision-perceiver-conv";
  fs::create_directories(dest);
  const std::string weights = test::read_text(repo + "/pytorch_model.bin");
  test::write_text(dest + "/pytorch_model.bin.part", weights.substr(0, weights.size() / 3));  // an interrupted download

  const auto result =
      test::run_command("HF_ENDPOINT=file://" + mirror + " bash " + script + " vision-perceiver-conv " + dest);
  CAPTURE(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.find("perceiver-classify -m") != std::string::npos);
  CHECK(test::read_text(dest + "/pytorch_model.bin") == weights);
  CHECK(!fs::exists(dest + "/pytorch_model.bin.part"));
  CHECK(!fs::exists(dest + "/model.safetensors"));
  CHECK(fs::exists(dest + "/preprocessor_config.json"));

  const std::string outputs = test::temp_dir() + "/outputs.safetensors";
  const auto run = test::run_command(test::bin_dir() + "/perceiver-run -m " + dest + " -i " + golden +
                                     "/inputs.safetensors -o " + outputs + " -t 2");
  CAPTURE(run.err);
  REQUIRE(run.exit_code == 0);
  const auto meta = nlohmann::json::parse(test::read_text(golden + "/meta.json"));
  const double allowed = meta["outputs"]["logits"]["tolerance_max_abs_diff"].get<double>();
  CHECK(test::max_abs_diff(read_tensors(outputs).at("logits"), read_tensors(golden + "/outputs.safetensors").at("logits")) <=
        allowed);

  // A second run finds everything in place and fetches nothing.
  const auto again =
      test::run_command("HF_ENDPOINT=file:///nonexistent bash " + script + " vision-perceiver-conv " + dest);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("have " + dest + "/config.json") != std::string::npos);
}

TEST_CASE("get-model.sh: a repo without config.json or weights exits 4") {
  const std::string script = repo_root() + "/scripts/get-model.sh";
  const std::string mirror = test::temp_dir();
  fs::create_directories(mirror + "/deepmind/multimodal-perceiver/resolve/main");
  auto result = test::run_command("HF_ENDPOINT=file://" + mirror + " bash " + script + " multimodal-perceiver " +
                                  test::temp_dir() + "/m");
  CHECK(result.exit_code == 4);
  CHECK(result.err.find("deepmind/multimodal-perceiver has no config.json") != std::string::npos);
  test::write_text(mirror + "/deepmind/multimodal-perceiver/resolve/main/config.json", "{}");
  result = test::run_command("HF_ENDPOINT=file://" + mirror + " bash " + script + " multimodal-perceiver " +
                             test::temp_dir() + "/m");
  CHECK(result.exit_code == 4);
  CHECK(result.err.find("has neither model.safetensors nor pytorch_model.bin") != std::string::npos);
}
