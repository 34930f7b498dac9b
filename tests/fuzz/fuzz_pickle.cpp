// Fuzz target: the closed pickle machine alone (lib/checkpoint/pickle_machine.h), i.e. a
// data.pkl without its ZIP archive around it, so the fuzzer spends its time on opcodes.
#include "checkpoint/pickle_machine.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perceiver;
  fuzz::fuzz_guard([&] {
    PickleLimits limits;
    limits.max_stack = 1 << 14;
    limits.max_memo = 1 << 14;
    limits.max_objects = 1 << 16;
    limits.max_tensors = 1000;
    const PickledStateDict state = unpickle_state_dict(data, size, "fuzz.bin", "data.pkl", limits);
    for (const PickledTensor& tensor : state.tensors) {
      if (tensor.storage >= state.storages.size() || tensor.shape.size() != tensor.stride.size() || tensor.offset < 0) {
        std::fprintf(stderr, "FUZZ FINDING: inconsistent tensor record for %s\n", tensor.name.c_str());
        std::abort();
      }
    }
  });
  return 0;
}
