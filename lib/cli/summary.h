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
  bool complete() const { return done + failed + skipped == total; }
};

// Prints the summary line and returns kExitInterrupted when SIGINT/SIGTERM stopped the batch
// before every input was finished, else kExitSomeFailed
// when an input failed, else kExitOk.
int finish_batch(const char* program, const BatchCounts& counts, const Shard& shard = {});

}  // namespace perceiver::cli
