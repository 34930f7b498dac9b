// Growing a trained byte MLM to twice its width without changing what it computes (the
// function-preserving widening of Net2Net, Chen, Goodfellow & Shlens 2016, by duplicating
// channels), so a longer training can start from everything the narrow model learned:
//   * every channel c of the residual streams (d_model, d_latents), of the attention values and of
//     the MLPs becomes channels 2c and 2c+1 (interleaved, so each attention head keeps its own
//     channels); a LayerNorm sees the same mean and variance;
//   * a linear layer's weight is copied to both output copies and split over both input copies
//     as (1/2 + ε, 1/2 − ε), ε uniform in ±0.1 (SplitMix64 from `seed`), so its outputs are the
//     old outputs, duplicated, while the copies can still grow apart in training;
//   * the query projections of widened attention are scaled by 1/√2: their heads are twice as
//     wide, so the 1/√(head width) of the scores shrinks by √2 while q·k doubles;
//   * the decoder's fixed-width query and key (qk_channels 256 of the language decoder) stay as
//     they are (only their inputs are widened);
//   * the decoder's residual stream is halved (its attention output and MLP output projections;
//     the language decoder has no query residual), because the tied output embedding, widened
//     too, would double every logit;
//   * qk_channels and v_channels, when set, double with the widths.
// The widened model gives the narrow one's logits up to LayerNorm's eps (tested on the golden
// MLM). Only PerceiverForMaskedLM, factor 2.
#pragma once

#include <cstdint>
#include <string>

namespace perceiver::training {

// Reads the model folder `from`, writes the widened folder `to` (config.json and
// model.safetensors, f32). Error(ConfigInvalid) for another architecture.
void widen_masked_lm(const std::string& from, const std::string& to, uint64_t seed = 0);

}  // namespace perceiver::training
