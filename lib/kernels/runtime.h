// The oneDNN CPU engine and stream shared by every primitive, the thread count, the precision
// that kernels built from now on compute in, and a count of the primitives created (so tests
// can check that repeated calls reuse them).
// Threads and precision must be set before a model is built: primitives capture both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <dnnl.hpp>

namespace perceiver::kernels {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();
// A stream of the calling thread's own, for primitives that threads run concurrently (the
// training kernels): a stream must not be shared between threads executing at once.
dnnl::stream& thread_stream();

// 0 keeps the OpenMP default (all cores). Call before building a model.
void set_num_threads(int threads);
int num_threads();

// F32: everything in float. BF16: matrix products read bfloat16 operands (weights stored bf16,
// activations rounded to bf16 on the way in) and accumulate in f32; layer norm, softmax, GELU
// and residual sums stay f32.
enum class Precision { F32, BF16 };
Precision precision();
// Throws Error(Usage) for BF16 on a CPU without AVX512_BF16 instructions.
void set_precision(Precision precision);
bool cpu_has_bf16();
const char* precision_name(Precision precision);  // "f32" / "bf16"
Precision parse_precision(const std::string& text);  // Error(Usage) on anything else

// Every oneDNN primitive the kernels create is counted here.
void count_primitive_created();
int64_t primitives_created();

// Scratch buffers shared by all kernels (they run one at a time): a buffer for `slot` of at
// least `bytes` bytes, 64-byte aligned, grown when needed and reused otherwise. Valid until the
// next call for the same slot.
enum class ScratchSlot {
  LinearSource,
  AttentionQuery,
  AttentionKey,
  AttentionValue,
  AttentionScores,
  AttentionProbabilities,
  Count
};
void* scratch(ScratchSlot slot, size_t bytes);

}  // namespace perceiver::kernels
