// Fuzz target: safetensors images (lib/checkpoint/safetensors.h), then every tensor's data.
#include "checkpoint/safetensors.h"
#include "fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perceiver;
  fuzz::fuzz_guard([&] {
    SafetensorsLimits limits;
    limits.max_header_bytes = 1 << 20;
    limits.max_tensors = 1000;
    const SafetensorsFile file = parse_safetensors(data, size, "fuzz.safetensors", ErrorKind::Input, limits);
    double sum = 0;
    for (const auto& [name, tensor] : file.tensors) {
      sum += fuzz::touch_tensor(tensor);
      if (file.find(name) == nullptr) {
        std::fprintf(stderr, "FUZZ FINDING: a parsed tensor cannot be found by its name\n");
        std::abort();
      }
    }
    for (const auto& [key, value] : file.metadata) sum += static_cast<double>(key.size() + value.size());
    fuzz::keep(sum);
  });
  return 0;
}
