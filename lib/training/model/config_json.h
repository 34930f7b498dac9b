// A PerceiverConfig written back as an HF config.json, so the folders perceiver-train writes
// load in every tool (and in HF transformers) unchanged.
#pragma once

#include <nlohmann/json.hpp>

#include "checkpoint/config.h"

namespace perceiver::training {

nlohmann::json config_to_json(const PerceiverConfig& config);

}  // namespace perceiver::training
