#include "kernels/runtime.h"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <memory>

#include "common/error.h"

namespace perceiver::kernels {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// The calling thread's: models run in different threads never share a stream.
dnnl::stream& cpu_stream() { return thread_stream(); }

dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

void set_num_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

int num_threads() { return omp_get_max_threads(); }

// Per thread: a model captures it when built, so two threads may build models of different
// precisions at once (docs/library.md).
thread_local Precision t_precision = Precision::F32;

Precision precision() { return t_precision; }

bool cpu_has_bf16() {
  // avx512_core_bf16 is the first ISA level in oneDNN's order with the bf16 dot-product instructions.
  return dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core_bf16;
}

void set_precision(Precision precision) {
  if (precision == Precision::BF16 && !cpu_has_bf16())
    fail(ErrorKind::Usage, "bf16: needs a CPU with AVX512_BF16 instructions; this one has none (use f32)");
  t_precision = precision;
}

const char* precision_name(Precision precision) { return precision == Precision::BF16 ? "bf16" : "f32"; }

Precision parse_precision(const std::string& text) {
  if (text == "f32") return Precision::F32;
  if (text == "bf16") return Precision::BF16;
  fail(ErrorKind::Usage, "unknown precision '" + text + "' (f32 or bf16)");
}

static std::atomic<int64_t> g_primitives_created{0};

void count_primitive_created() { ++g_primitives_created; }
int64_t primitives_created() { return g_primitives_created.load(); }

dnnl::primitive_attr user_scratchpad(dnnl::primitive_attr attr) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

ReusablePrimitive::ReusablePrimitive(dnnl::primitive primitive,
                                     const std::vector<std::pair<int, dnnl::memory::desc>>& arguments,
                                     const dnnl::memory::desc& scratchpad)
    : primitive_(std::move(primitive)) {
  for (const auto& [arg, desc] : arguments) args_.emplace(arg, dnnl::memory(desc, cpu_engine(), nullptr));
  args_.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchpad, cpu_engine()));
  count_primitive_created();
}

void ReusablePrimitive::run(std::initializer_list<std::pair<int, const void*>> pointers) {
  for (const auto& [arg, pointer] : pointers) args_.at(arg).set_data_handle(const_cast<void*>(pointer));
  dnnl::stream& stream = thread_stream();
  primitive_.execute(stream, args_);
  stream.wait();
}

namespace {
struct ScratchBuffer {
  std::unique_ptr<void, decltype(&std::free)> data{nullptr, &std::free};
  size_t bytes = 0;
};
}  // namespace

void* scratch(ScratchSlot slot, size_t bytes) {
  // Per thread: kernels run one at a time within a thread, and models in other threads have
  // their own.
  thread_local ScratchBuffer buffers[static_cast<int>(ScratchSlot::Count)];
  ScratchBuffer& buffer = buffers[static_cast<int>(slot)];
  if (buffer.bytes < bytes) {
    const size_t rounded = (bytes + 63) / 64 * 64;
    buffer.data.reset();  // free first: the old contents are not needed
    buffer.data.reset(std::aligned_alloc(64, rounded));
    if (!buffer.data) fail(ErrorKind::Internal, "out of memory for a " + std::to_string(rounded) + "-byte scratch buffer");
    buffer.bytes = rounded;
  }
  return buffer.data.get();
}

}  // namespace perceiver::kernels
