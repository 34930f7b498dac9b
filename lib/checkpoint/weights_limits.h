// What a weights file may declare before anything is allocated for it, whatever its format; the
// tools' --max-header-bytes and --max-tensors set these (a .bin file's header is its data.pkl, a
// sharded model's is its index). Exceeding one is Error(Limit) naming the flag.
#pragma once

#include <cstddef>
#include <cstdint>

namespace perceiver {

struct WeightsLimits {
  uint64_t max_header_bytes = 100ull << 20;
  size_t max_tensors = 100000;
};

}  // namespace perceiver
