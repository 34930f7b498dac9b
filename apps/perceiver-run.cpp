// perceiver-run: run a model folder on raw input tensors and write the raw output tensors.
//   perceiver-run -m MODEL_DIR -i inputs.safetensors -o outputs.safetensors
// Tensor names and layouts are those of the HF forward call (tests/data/golden/README.md).
#include <CLI/CLI.hpp>

#include <map>

#include "checkpoint/safetensors.h"
#include "cli/app_options.h"
#include "cli/exit_codes.h"
#include "kernels/runtime.h"
#include "models/registry.h"

using namespace perceiver;

int main(int argc, char** argv) {
  CLI::App app{"Run a Perceiver IO model folder on raw input tensors (safetensors in, safetensors out).", "perceiver-run"};
  std::string model_dir, inputs_path, outputs_path, intermediates_path;
  cli::ModelOptions model_options;
  app.add_option("-m,--model", model_dir, "model folder: config.json + weights (model.safetensors or pytorch_model.bin, or their sharded forms)")->required();
  app.add_option("-i,--inputs", inputs_path, "input tensors (safetensors), named as the HF forward call")->required();
  app.add_option("-o,--output", outputs_path, "where to write the output tensors (safetensors)")->required();
  app.add_option("--intermediates", intermediates_path,
                 "also write intermediate tensors (encoder/decoder stages) to this safetensors file");
  cli::add_model_options(app, model_options);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;

  return cli::run_guarded("perceiver-run", [&] {
    cli::apply_model_options(model_options);
    const auto model = load_raw_model(model_dir, model_options.limits);
    const SafetensorsFile inputs_file = read_safetensors(inputs_path, ErrorKind::Input);
    std::map<std::string, Tensor> inputs(inputs_file.tensors.begin(), inputs_file.tensors.end());

    NamedTensors intermediates;
    const Trace trace = [&](const std::string& name, const Tensor& value) { intermediates.emplace_back(name, value); };
    NamedTensors outputs;
    try {
      outputs = model->run(inputs, intermediates_path.empty() ? nullptr : &trace);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Input) fail(ErrorKind::Input, inputs_path + ": " + e.what());
      throw;
    }
    write_safetensors(outputs_path, outputs);
    if (!intermediates_path.empty()) write_safetensors(intermediates_path, intermediates);
    return 0;
  });
}
