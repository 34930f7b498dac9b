// Output files are written whole or not at all: bytes go to a temporary file beside the target,
// which is flushed and renamed into place only after everything was written.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace perceiver {

// Calls `write` with a stream to a temporary file, then renames it to `path`.
// On any failure (exception from `write`, I/O error) the temporary file is removed and
// Error(Output) is thrown naming `path`.
void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// The temporary name used for `path` by this process: "<path>.tmp.<pid>".
std::string temporary_path(const std::string& path);

// The pid in `file_name` when it is "<target_name>.tmp.<pid>", else 0.
long temporary_owner(const std::string& file_name, const std::string& target_name);

}  // namespace perceiver
