// Shared by the libFuzzer targets (docs/testing.md, "Fuzzing"). A target calls one of the
// library's in-memory parsers on the fuzzer's bytes inside fuzz_guard(): a perceiver::Error is the
// parser refusing bad input, which is normal; any other exception escaping the library is a
// finding (printed, then abort(), which libFuzzer reports as a crash and saves the input), as is
// every sanitizer report. With PERCEIVER_FUZZ_VERBOSE set in the environment, refusals are
// printed (e.g. to see which seeds of a corpus are accepted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <typeinfo>

#include "common/error.h"
#include "tensor/tensor.h"

namespace perceiver::fuzz {

template <typename Body>
void fuzz_guard(Body&& body) {
  try {
    body();
  } catch (const perceiver::Error& e) {
    // Refused: fine. PERCEIVER_FUZZ_VERBOSE=1 prints why (to check what a seed exercises).
    static const bool verbose = std::getenv("PERCEIVER_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FUZZ FINDING: %s escaped the library: %s\n", typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "FUZZ FINDING: a non-std exception escaped the library\n");
    std::abort();
  }
}

// Reads every byte of a tensor and, for float types, every value through to_f32(), so that a
// tensor whose span lies outside its buffer is caught by AddressSanitizer. The result is returned
// (and used by the caller) so the reads cannot be optimised away.
inline double touch_tensor(const Tensor& tensor) {
  double sum = 0;
  const auto* bytes = static_cast<const uint8_t*>(tensor.raw());
  const size_t n = tensor.nbytes();
  if (n && !bytes) {
    std::fprintf(stderr, "FUZZ FINDING: tensor of %zu bytes has no data\n", n);
    std::abort();
  }
  for (size_t i = 0; i < n; ++i) sum += bytes[i];
  if (tensor.dtype() == DType::F32 || tensor.dtype() == DType::F16 || tensor.dtype() == DType::BF16) {
    const Tensor f = tensor.to_f32();
    if (static_cast<size_t>(f.numel()) != static_cast<size_t>(tensor.numel())) {
      std::fprintf(stderr, "FUZZ FINDING: to_f32 changed the element count\n");
      std::abort();
    }
    const float* values = f.data<float>();
    for (int64_t i = 0; i < f.numel(); ++i) sum += values[i] == values[i] ? 1 : 0;  // NaN-safe
  }
  return sum;
}

// Keeps a value alive for the optimiser.
template <typename T>
void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

}  // namespace perceiver::fuzz
