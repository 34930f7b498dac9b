// The end of a batch, the same in every tool: one summary line on stderr and the exit code.
//   perceiver-classify: 110 inputs: 97 done, 10 failed, 3 skipped
//   perceiver-classify: shard 1/4: 28 inputs: 28 done, 0 failed, 0 skipped
//   perceiver-classify: interrupted by SIGTERM: 110 inputs: 40 done, 2 failed, 0 skipped, 68 not done
// The line is printed for every batch of more than one input, and for any run where an input
// failed, was skipped, the run was interrupted or sharded; a single input done leaves stderr quiet.
#pragma once

#include <cstddef>

#include "cli/shard.h"

namespace perceiver::cli {

struct BatchCounts {
  size_t total = 0;    // inputs in this run (in this shard)
  size_t done = 0;     // computed and written
  size_t failed = 0;   // reported on stderr (and in JSON-lines output as an error record)
  size_t skipped = 0;  // --skip-existing: outputs already there
  size_t skipped_failed = 0;  // of those, error records of an earlier run (still exit code 10)
  bool complete() const { return done + failed + skipped == total; }
  // One input skipped because the journal has its record (`failed`: an error record).
  void skip(bool failed_earlier) {
    ++skipped;
    skipped_failed += failed_earlier;
  }
};

// Prints the summary line and returns kExitInterrupted when SIGINT/SIGTERM stopped the batch
// before every input was finished, else kExitSomeFailed when an input failed (in this run, or
// in an earlier one whose error record made it skipped), else kExitOk.
int finish_batch(const char* program, const BatchCounts& counts, const Shard& shard = {});

}  // namespace perceiver::cli
