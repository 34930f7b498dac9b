// --skip-existing for tools that write one or more files per input: an input whose output files
// all exist is skipped (counted as skipped in the summary). Outputs are only ever renamed into
// place whole (common/atomic_file.h), so an existing file is a finished one. A run killed with
// SIGKILL while writing may leave "<output>.tmp.<pid>"; remove_stale_temporaries deletes those of
// the given outputs whose process is gone. (JSON-lines outputs resume through cli/output.h.)
#pragma once

#include <string>
#include <vector>

namespace perceiver::cli {

// True when every non-empty path names an existing file (false when all are empty).
bool outputs_exist(const std::vector<std::string>& paths);

// Removes "<path>.tmp.<pid>" files beside the given outputs when no process <pid> runs on this
// machine. Each directory is listed once.
void remove_stale_temporaries(const std::vector<std::string>& outputs);

}  // namespace perceiver::cli
