#include "training/model/widen.h"

#include <cmath>
#include <filesystem>
#include <map>

#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/random.h"
#include "core/tensor_names.h"
#include "training/model/config_json.h"

namespace perceiver::training {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// [rows, cols] → rows (×2 when widen_rows) × cols (×2 when widen_cols), values duplicated
// interleaved, times `scale`. With `split_inputs` (a linear layer's weight over duplicated
// inputs) the two input copies of each weight get (1/2 + ε) and (1/2 − ε) of it, ε drawn from
// [−kSplitNoise, kSplitNoise]: the sum over two equal inputs is the old weight exactly, and the
// duplicated units, whose outgoing weights now differ, get different gradients and grow apart
// (two exact copies would stay copies forever).
constexpr double kSplitNoise = 0.1;

Tensor duplicate(const Tensor& t, bool widen_rows, bool widen_cols, double scale, SplitMix64* split_inputs = nullptr) {
  const int64_t rows = t.shape().size() == 2 ? t.dim(0) : 1, cols = t.shape().back();
  const int64_t out_rows = widen_rows ? 2 * rows : rows, out_cols = widen_cols ? 2 * cols : cols;
  Tensor out = t.shape().size() == 2 ? Tensor::f32({out_rows, out_cols}) : Tensor::f32({out_cols});
  const Tensor source = t.to_f32();
  const float* in = source.data<float>();
  float* o = out.mutable_data<float>();
  for (int64_t r = 0; r < out_rows; ++r)
    for (int64_t c = 0; c < out_cols; ++c) {
      const double value = scale * in[(widen_rows ? r / 2 : r) * cols + (widen_cols ? c / 2 : c)];
      if (split_inputs && c % 2 == 0) {
        const double epsilon = kSplitNoise * (2 * split_inputs->uniform() - 1);
        o[r * out_cols + c] = static_cast<float>(value * (0.5 + epsilon));
        o[r * out_cols + c + 1] = static_cast<float>(value * (0.5 - epsilon));
        ++c;
      } else {
        o[r * out_cols + c] = static_cast<float>(value);
      }
    }
  return out;
}

}  // namespace

void widen_masked_lm(const std::string& from, const std::string& to, uint64_t seed) {
  PerceiverConfig config = load_config(from + "/config.json");
  if (config.architecture != "PerceiverForMaskedLM")
    fail(ErrorKind::ConfigInvalid, from + ": only a PerceiverForMaskedLM can be widened, not " + config.architecture);
  const SafetensorsFile file = read_safetensors(from + "/model.safetensors");
  const double sqrt_half = std::sqrt(0.5);
  SplitMix64 random(seed);
  std::vector<std::pair<std::string, Tensor>> widened;
  // Module names followed by "." match their tensors (.weight, .bias) and nothing longer.
  const std::string query = std::string(names::kQuery) + ".", key = std::string(names::kKey) + ".",
                    output = std::string(names::kAttentionOutput) + ".", dense2 = std::string(names::kDense2) + ".";
  for (const auto& [name, tensor] : file.tensors) {
    const Tensor* t = &tensor;
    const bool decoder = contains(name, std::string(names::kLanguageDecoder) + ".");
    Tensor out;
    if (name == names::kTokenEmbeddings || name == names::kTextPositions || name == names::kLatents) {
      out = duplicate(*t, false, true, 1.0);  // [rows, channels]: channels widened
    } else if (name == names::decoder_queries(names::kLanguageDecoder)) {
      out = duplicate(*t, false, true, 1.0);  // only seen through a LayerNorm (no query residual)
    } else if (name == names::kEmbeddingDecoderBias) {
      out = t->to_f32();
    } else if (ends_with(name, ".weight") && t->shape().size() == 2) {
      // A linear layer [out, in]: inputs always widened (halved), outputs unless fixed-width.
      const bool fixed_out = decoder && (contains(name, query) || contains(name, key));
      double scale = 1.0;  // the 1/2 over the two input copies comes from the split
      if (!fixed_out && contains(name, query)) scale *= sqrt_half;
      if (decoder && (contains(name, output) || contains(name, dense2))) scale *= 0.5;
      out = duplicate(*t, !fixed_out, true, scale, &random);
    } else if (t->shape().size() == 1) {
      // A bias or LayerNorm parameter of a widened (or fixed-width) output.
      const std::string layer = name.substr(0, name.rfind('.'));
      const bool fixed_out = decoder && (ends_with(layer, names::kQuery) || ends_with(layer, names::kKey));
      const bool layernorm = contains(layer, names::kLayerNorm);  // layernorm, layernorm1, layernorm2
      double scale = 1.0;
      if (!layernorm && !fixed_out && ends_with(layer, names::kQuery)) scale = sqrt_half;
      if (!layernorm && decoder && (ends_with(layer, names::kAttentionOutput) || ends_with(layer, names::kDense2)))
        scale = 0.5;
      out = fixed_out ? t->to_f32() : duplicate(*t, false, true, scale);
    } else {
      fail(ErrorKind::ConfigInvalid, from + ": no widening rule for tensor " + name);
    }
    widened.emplace_back(name, std::move(out));
  }
  config.d_model *= 2;
  config.d_latents *= 2;
  if (config.qk_channels) *config.qk_channels *= 2;
  if (config.v_channels) *config.v_channels *= 2;
  check_config_bounds(config, to + "/config.json");
  std::filesystem::create_directories(to);
  write_safetensors(to + "/model.safetensors", widened);
  write_file_atomically(to + "/config.json", [&](std::ostream& out) { out << config_to_json(config).dump(2) << "\n"; });
}

}  // namespace perceiver::training
