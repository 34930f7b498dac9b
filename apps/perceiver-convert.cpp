// perceiver-convert: any supported checkpoint folder → a HuggingFace-layout folder with
// model.safetensors and config.json (plus the processor/tokenizer JSON files it has).
//   perceiver-convert -m MODEL_DIR -o OUT_DIR [--dtype f32|f16|bf16]
// The source may hold model.safetensors, model.safetensors.index.json, pytorch_model.bin or
// pytorch_model.bin.index.json. Float tensors are stored as --dtype (default f32); integer tensors
// stay I64. Every file is written whole or not at all, and model.safetensors is read back and
// compared tensor by tensor with what was meant to be written.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "checkpoint/pytorch_checkpoint.h"
#include "checkpoint/safetensors.h"
#include "cli/app_options.h"
#include "cli/exit_codes.h"
#include "common/atomic_file.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

// Files of a hub model folder copied beside the weights when present (config.json is required).
const char* const kSideFiles[] = {"preprocessor_config.json", "tokenizer_config.json", "special_tokens_map.json",
                                  "generation_config.json", "README.md"};

bool is_float(DType dtype) { return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16; }

// `tensor` stored as `target` (floats only); counts values that were finite and became infinite.
Tensor convert(const Tensor& tensor, DType target, size_t& overflowed) {
  if (!is_float(tensor.dtype()) || tensor.dtype() == target) return tensor;
  const Tensor f32 = tensor.to_f32();
  if (target == DType::F32) return f32;
  Tensor out = Tensor::zeros(target, f32.shape());
  const float* in = f32.data<float>();
  uint16_t* bits = out.mutable_data<uint16_t>();
  for (int64_t i = 0; i < f32.numel(); ++i) {
    bits[i] = target == DType::F16 ? f32_to_f16(in[i]) : f32_to_bf16(in[i]);
    const float back = target == DType::F16 ? f16_to_f32(bits[i]) : bf16_to_f32(bits[i]);
    if (std::isfinite(in[i]) && !std::isfinite(back)) ++overflowed;
  }
  return out;
}

void copy_file_atomically(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) fail(ErrorKind::ModelMissing, from.string() + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) fail(ErrorKind::ModelMissing, from.string() + ": read failed");
  const std::string bytes = text.str();
  write_file_atomically(to.string(), [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code error;
  return fs::exists(b) && fs::equivalent(a, b, error);
}

// Reads `path` back and checks it holds exactly `expected`: same names in the same order, same
// dtypes, shapes and bytes.
void verify(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& expected) {
  const SafetensorsFile written = read_safetensors(path, ErrorKind::Output);
  auto bad = [&](const std::string& what) { fail(ErrorKind::Output, path + ": verification failed: " + what); };
  if (written.tensors.size() != expected.size())
    bad(std::to_string(written.tensors.size()) + " tensors read back, " + std::to_string(expected.size()) + " written");
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, want] = expected[i];
    const auto& [got_name, got] = written.tensors[i];
    if (got_name != name) bad("tensor " + std::to_string(i) + " is '" + got_name + "', expected '" + name + "'");
    if (got.dtype() != want.dtype() || got.shape() != want.shape())
      bad("tensor '" + name + "' is " + dtype_name(got.dtype()) + " " + shape_to_string(got.shape()) + ", expected " +
          dtype_name(want.dtype()) + " " + shape_to_string(want.shape()));
    if (want.nbytes() && std::memcmp(got.raw(), want.raw(), want.nbytes()) != 0) bad("tensor '" + name + "' differs");
  }
}

std::string megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Convert a Perceiver IO checkpoint folder (pytorch_model.bin, safetensors, sharded) into "
               "model.safetensors + config.json, verified by reading it back.",
               "perceiver-convert"};
  std::string model_dir, out_dir, dtype_text = "f32";
  bool quiet = false;
  app.add_option("-m,--model", model_dir, "source model folder (config.json + any supported weights)")->required();
  app.add_option("-o,--output", out_dir, "output folder (created; may be the source folder)")->required();
  app.add_option("--dtype", dtype_text, "storage of float tensors: f32, f16 or bf16 (integer tensors stay I64)")
      ->check(CLI::IsMember({"f32", "f16", "bf16"}))
      ->capture_default_str();
  app.add_flag("-q,--quiet", quiet, "no summary on stdout");
  // The options every tool shares; -t and --precision change nothing in a conversion.
  cli::ModelOptions model;
  cli::add_model_options(app, model);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;

  return cli::run_guarded("perceiver-convert", [&] {
    const DType target = dtype_text == "f16" ? DType::F16 : dtype_text == "bf16" ? DType::BF16 : DType::F32;
    const fs::path source_dir(model_dir), target_dir(out_dir);
    const fs::path config = source_dir / "config.json";
    if (!fs::is_directory(source_dir)) fail(ErrorKind::ModelMissing, model_dir + ": no such model folder");
    if (!fs::exists(config)) fail(ErrorKind::ModelMissing, config.string() + ": no such file");

    const CheckpointTensors checkpoint = read_checkpoint_folder(model_dir, model.limits);
    std::vector<std::pair<std::string, Tensor>> converted;
    converted.reserve(checkpoint.tensors.size());
    uint64_t bytes = 0;
    for (const auto& [name, tensor] : checkpoint.tensors) {
      size_t overflowed = 0;
      converted.emplace_back(name, convert(tensor, target, overflowed));
      bytes += converted.back().second.nbytes();
      if (overflowed)
        std::cerr << "perceiver-convert: warning: " << overflowed << " values of '" << name << "' are beyond the "
                  << dtype_name(target) << " range and became infinite\n";
    }

    std::error_code error;
    fs::create_directories(target_dir, error);
    if (!fs::is_directory(target_dir)) fail(ErrorKind::Output, out_dir + ": cannot create the folder");
    const std::string weights = (target_dir / "model.safetensors").string();
    write_safetensors(weights, converted, {{"format", "pt"}});
    verify(weights, converted);
    if (!same_file(config, target_dir / "config.json")) copy_file_atomically(config, target_dir / "config.json");
    for (const char* name : kSideFiles) {
      const fs::path file = source_dir / name;
      if (fs::exists(file) && !same_file(file, target_dir / name)) copy_file_atomically(file, target_dir / name);
    }
    if (!quiet)
      std::cout << weights << ": " << converted.size() << " tensors, " << megabytes(bytes) << ", floats as "
                << dtype_name(target) << ", from " << checkpoint.source << "; read back and verified" << std::endl;
    return 0;
  });
}
