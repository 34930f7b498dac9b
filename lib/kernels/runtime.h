// The oneDNN CPU engine shared by every primitive; per calling thread: the stream, the thread
// count (OpenMP's per-thread setting), the precision that kernels built from now on compute in
// and the scratch buffers; and a count of the primitives created (so tests can check that
// repeated calls reuse them). Nothing here is shared between threads but the engine (which
// oneDNN makes thread-safe) and the counter (atomic), so models built and run in different
// threads are independent (docs/library.md). Precision must be set before a model is built:
// its primitives capture it.
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
dnnl::stream& cpu_stream();  // the calling thread's (thread_stream())
// A stream of the calling thread's own, for primitives that threads run concurrently (the
// training kernels): a stream must not be shared between threads executing at once.
dnnl::stream& thread_stream();

// Threads of the calling thread's parallel regions; 0 keeps the OpenMP default (all cores).
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

// Scratch buffers shared by the kernels of one thread (they run one at a time): a buffer for `slot` of at
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
