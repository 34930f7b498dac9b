#include "cli/shard.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "common/error.h"

namespace perceiver::cli {

namespace {

// A whole decimal number without sign, spaces or suffix; false otherwise (or on overflow).
bool parse_count(const std::string& text, unsigned long long& value) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  value = std::strtoull(text.c_str(), nullptr, 10);
  return true;
}

const char* environment(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

}  // namespace

std::string Shard::text() const { return std::to_string(index) + "/" + std::to_string(count); }

Shard parse_shard(const std::string& text, const std::string& source) {
  const auto usage = [&](const std::string& why) {
    fail(ErrorKind::Usage, source + " '" + text + "': " + why + " (give I/N: shard I of N, 0 <= I < N, e.g. 0/4)");
  };
  const size_t slash = text.find('/');
  unsigned long long index = 0, count = 0;
  if (slash == std::string::npos || !parse_count(text.substr(0, slash), index) || !parse_count(text.substr(slash + 1), count))
    usage("not of the form I/N with whole numbers");
  if (count == 0) usage("N must be at least 1");
  if (index >= count) usage("I must be less than N (shards are numbered from 0)");
  return Shard{static_cast<size_t>(index), static_cast<size_t>(count)};
}

Shard resolve_shard(const std::string& flag) {
  if (!flag.empty()) return parse_shard(flag, "--shard");
  const char* count = environment("SLURM_ARRAY_TASK_COUNT");
  if (!count) return Shard{};
  const char* id = environment("SLURM_ARRAY_TASK_ID");
  const char* min = environment("SLURM_ARRAY_TASK_MIN");
  const std::string source = "SLURM_ARRAY_TASK_ID=" + std::string(id ? id : "") + ", SLURM_ARRAY_TASK_MIN=" +
                             std::string(min ? min : "0") + ", SLURM_ARRAY_TASK_COUNT=" + count;
  unsigned long long task = 0, first = 0, total = 0;
  if (!id || !parse_count(id, task) || (min && !parse_count(min, first)) || !parse_count(count, total))
    fail(ErrorKind::Usage, source + ": not whole numbers; the shard comes from these when --shard is not given "
                                    "(give --shard I/N to override)");
  if (task < first)
    fail(ErrorKind::Usage, source + ": the task id is below the minimum (give --shard I/N to override)");
  return parse_shard(std::to_string(task - first) + "/" + std::to_string(total),
                     source + " (the shard when --shard is not given; the array must be contiguous)");
}

Range shard_range(size_t total, const Shard& shard) {
  const size_t q = total / shard.count, r = total % shard.count;
  const size_t begin = shard.index * q + std::min(shard.index, r);
  return Range{begin, begin + q + (shard.index < r ? 1 : 0)};
}

}  // namespace perceiver::cli
