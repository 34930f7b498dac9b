// Fuzz target: pytorch_model.bin images (lib/checkpoint/pytorch_checkpoint.h: ZIP directory,
// data.pkl through the pickle machine, storages resolved, strided tensors gathered), then every
// tensor's data. Small limits keep a hostile file from spending the run on one big allocation.
#include "checkpoint/pytorch_checkpoint.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perceiver;
  fuzz::fuzz_guard([&] {
    PytorchCheckpointLimits limits;
    limits.max_pickle_bytes = 1 << 20;
    limits.copy_allowance_bytes = 4 << 20;
    limits.pickle.max_stack = 1 << 14;
    limits.pickle.max_memo = 1 << 14;
    limits.pickle.max_objects = 1 << 16;
    limits.pickle.max_tensors = 1000;
    const PytorchCheckpoint checkpoint = parse_pytorch_checkpoint(data, size, "fuzz.bin", limits);
    double sum = 0;
    for (const auto& [name, tensor] : checkpoint.tensors) {
      sum += fuzz::touch_tensor(tensor);
      if (checkpoint.find(name) == nullptr) {
        std::fprintf(stderr, "FUZZ FINDING: a parsed tensor cannot be found by its name\n");
        std::abort();
      }
    }
    fuzz::keep(sum);
  });
  return 0;
}
