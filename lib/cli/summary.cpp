#include "cli/summary.h"

#include <iostream>
#include <sstream>

#include "cli/exit_codes.h"
#include "cli/interrupt.h"

namespace perceiver::cli {

int finish_batch(const char* program, const BatchCounts& counts, const Shard& shard) {
  const size_t finished = counts.done + counts.failed + counts.skipped;
  const bool stopped = interrupted() && !counts.complete();  // a signal after the last input changes nothing
  if (stopped || counts.failed > 0 || counts.skipped > 0 || counts.total > 1 || !shard.whole()) {
    std::ostringstream line;
    line << program << ": ";
    if (stopped) line << "interrupted by " << interrupt_signal_name() << ": ";
    if (!shard.whole()) line << "shard " << shard.text() << ": ";
    line << counts.total << (counts.total == 1 ? " input: " : " inputs: ") << counts.done << " done, " << counts.failed
         << " failed, " << counts.skipped << " skipped";
    if (counts.skipped_failed > 0) line << " (" << counts.skipped_failed << " of them failed in an earlier run)";
    if (stopped) line << ", " << counts.total - finished << " not done";
    std::cerr << line.str() << std::endl;
  }
  if (stopped) return kExitInterrupted;
  return counts.failed + counts.skipped_failed > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace perceiver::cli
