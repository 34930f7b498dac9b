// Training checkpoints are HF model folders (config.json + model.safetensors, f32) that every
// tool loads as they are, plus training_state.safetensors beside them: AdamW's moments under
// "first_moment/<name>" and "second_moment/<name>", and in its metadata the step and the run's
// settings, so a resumed run continues exactly where the saved one stopped.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "checkpoint/config.h"
#include "training/loop/optimizer.h"
#include "training/model/parameters.h"

namespace perceiver::training {

// Writes config.json, model.safetensors and `extra_files` (name → text, e.g.
// preprocessor_config.json) into `dir` (created), each file atomically.
void save_model_folder(const std::string& dir, const PerceiverConfig& config, const ParameterSet<float>& params,
                       const std::map<std::string, std::string>& extra_files = {});

void save_training_state(const std::string& dir, const ParameterSet<float>& params, const AdamState<float>& state,
                         const std::map<std::string, std::string>& metadata);

// Reads every parameter from the model folder `dir` (any layout the tools read; f16/bf16 are
// widened), except those for which `skip` is true (left as initialised; their tensors in the file
// are ignored). Error(ModelMismatch) lists all missing or mis-shaped tensors.
void load_parameters(ParameterSet<float>& params, const std::string& dir,
                     const std::function<bool(const std::string&)>& skip = {});

// Reads AdamW's moments and step back; returns the saved metadata.
std::map<std::string, std::string> load_training_state(const std::string& dir, const ParameterSet<float>& params,
                                                       AdamState<float>& state);

}  // namespace perceiver::training
