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
  const char* max = environment("SLURM_ARRAY_TASK_MAX");
  const std::string source = "SLURM_ARRAY_TASK_ID=" + std::string(id ? id : "") + ", SLURM_ARRAY_TASK_MIN=" +
                             std::string(min ? min : "0") + (max ? ", SLURM_ARRAY_TASK_MAX=" + std::string(max) : "") +
                             ", SLURM_ARRAY_TASK_COUNT=" + count;
  const auto refuse = [&](const std::string& why) {
    fail(ErrorKind::Usage, source + ": " + why + "; the shard comes from these only when --shard is not given (give --shard I/N)");
  };
  unsigned long long task = 0, first = 0, last = 0, total = 0;
  if (!id || !parse_count(id, task) || (min && !parse_count(min, first)) || (max && !parse_count(max, last)) ||
      !parse_count(count, total))
    refuse("not whole numbers");
  // Only a first submission of a contiguous array from 0 or 1 tells the shard. A stepped or
  // listed array (0-30:2, 3,7), one starting later, or a single task is what a rerun of some
  // tasks looks like (sbatch --array=2 script.sh): taken as is, it would run another block of
  // the inputs (task 2 alone is shard 0/1, all of them) and double the merged records.
  if (max && (last < first || last - first + 1 != total)) refuse("the array is not contiguous (stepped or listed)");
  if (first > 1) refuse("the array starts at " + std::to_string(first) + ", not 0 or 1 (a rerun of some tasks?)");
  if (total == 1) refuse("an array of one task (a rerun of one task?)");
  if (task < first) refuse("the task id is below the minimum");
  return parse_shard(std::to_string(task - first) + "/" + std::to_string(total),
                     source + " (the shard when --shard is not given)");
}

Range shard_range(size_t total, const Shard& shard) {
  const size_t q = total / shard.count, r = total % shard.count;
  const size_t begin = shard.index * q + std::min(shard.index, r);
  return Range{begin, begin + q + (shard.index < r ? 1 : 0)};
}

}  // namespace perceiver::cli
