// The oneDNN CPU engine and stream shared by every primitive, the thread count, the precision
// that kernels built from now on compute in, and a count of the primitives created (so tests
// can check that repeated calls reuse them).
// Threads and precision must be set before a model is built: primitives capture both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

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

// A primitive whose memory objects are made once, with no data, and pointed at the caller's
// buffers on every call, with a scratchpad of its own: what a per-thread cache of primitives
// needs (perceiver-train's products and element-wise ops run from several threads at once, and
// such threads may share neither memory handles nor oneDNN's library scratchpad). Build its
// primitive with user_scratchpad(); run() executes on the calling thread's stream and waits.
// Each one is counted by count_primitive_created().
dnnl::primitive_attr user_scratchpad(dnnl::primitive_attr attr = {});

class ReusablePrimitive {
 public:
  ReusablePrimitive(dnnl::primitive primitive, const std::vector<std::pair<int, dnnl::memory::desc>>& arguments,
                    const dnnl::memory::desc& scratchpad);
  // DNNL_ARG_* → the buffer for that argument in this call.
  void run(std::initializer_list<std::pair<int, const void*>> pointers);

 private:
  dnnl::primitive primitive_;
  std::unordered_map<int, dnnl::memory> args_;
};

// Primitives by shape, made on first use and reused: declare one thread_local per kind of op.
template <typename Key>
class PrimitiveCache {
 public:
  template <typename Make>
  ReusablePrimitive& get(const Key& key, Make&& make) {
    auto found = cache_.find(key);
    if (found == cache_.end()) found = cache_.emplace(key, make()).first;
    return found->second;
  }

 private:
  std::map<Key, ReusablePrimitive> cache_;
};

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
