// --shard I/N: the I-th (from 0) of N contiguous blocks of a tool's ordered input list, so that
// N processes (GNU parallel, a Slurm job array, Ray) share one batch without talking to each
// other, and their outputs concatenated in shard order equal the unsharded output.
//
// Blocks: with T inputs, q = T / N and r = T % N; block i holds q + 1 inputs when i < r, else q,
// and starts at i * q + min(i, r). Block sizes differ by at most one, earlier blocks are larger;
// when N > T the last N - T blocks are empty (such a shard does nothing and exits 0).
//
// Without --shard, a Slurm job array picks the shard: I = SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN
// (MIN defaults to 0), N = SLURM_ARRAY_TASK_COUNT, when SLURM_ARRAY_TASK_COUNT is set, for a
// contiguous array of two or more tasks starting at 0 or 1; any other array (a rerun of some
// tasks looks like one) is a usage error asking for --shard. Otherwise the whole list (0/1).
// docs/scaling.md has the examples.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace perceiver::cli {

struct Shard {
  size_t index = 0, count = 1;
  bool whole() const { return count == 1; }
  std::string text() const;  // "I/N"
};

// Parses "I/N". Error(Usage) naming `source` (the flag or the variables) when malformed,
// N = 0 or I >= N.
Shard parse_shard(const std::string& text, const std::string& source = "--shard");

// The shard from --shard (when `flag` is not empty), else from the Slurm array variables, else 0/1.
Shard resolve_shard(const std::string& flag);

// [begin, end) of `shard`'s block in a list of `total` inputs.
struct Range {
  size_t begin = 0, end = 0;
  size_t size() const { return end - begin; }
  bool contains(size_t i) const { return i >= begin && i < end; }
};
Range shard_range(size_t total, const Shard& shard);

template <class T>
std::vector<T> select_shard(const std::vector<T>& items, const Shard& shard) {
  const Range range = shard_range(items.size(), shard);
  return std::vector<T>(items.begin() + static_cast<std::ptrdiff_t>(range.begin),
                        items.begin() + static_cast<std::ptrdiff_t>(range.end));
}

}  // namespace perceiver::cli
