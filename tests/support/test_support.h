// Helpers shared by the tests: paths to data and binaries, temporary folders, running a
// command and capturing its output, comparing tensors.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "media/image.h"
#include "tensor/tensor.h"

namespace perceiver::test {

std::string data_dir();    // tests/data
std::string golden_dir();  // tests/data/golden
std::string bin_dir();     // where perceiver-run, perceiver-mlm, … are built

// A fresh empty directory, removed at the end of the test process.
std::string temp_dir();

// Prefix for a tool's command line: a test must not inherit a Slurm array's shard (the tools
// default --shard from SLURM_ARRAY_* variables) from the environment it runs in.
inline const std::string kNoSlurm = "env -u SLURM_ARRAY_TASK_ID -u SLURM_ARRAY_TASK_MIN -u SLURM_ARRAY_TASK_COUNT ";

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `command` through /bin/sh with `stdin_text` on its standard input.
CommandResult run_command(const std::string& command, const std::string& stdin_text = "");

// A command started in the background (`exec`ed by /bin/sh, so `pid` is the tool itself) with its
// stdout and stderr going to files, so that a test can watch its outputs and signal it.
struct BackgroundCommand {
  int pid = -1;
  std::string dir;  // holds stdout and stderr
};
BackgroundCommand start_command(const std::string& command);
// Waits for it to end; exit_code is 128 + the signal when a signal ended it.
CommandResult wait_command(const BackgroundCommand& command);

std::string read_text(const std::string& path);
// The newline characters in `text`: the lines of a tool's output or stderr.
inline size_t count_lines(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}
void write_text(const std::string& path, const std::string& text);

// The golden model folders (full paths, sorted) whose architecture the library supports.
std::vector<std::string> golden_model_cases();
// Every tensor of a safetensors file, by name.
std::map<std::string, Tensor> read_tensors(const std::string& path);

// Largest |a - b| over two F32 tensors of equal shape (throws on shape mismatch).
double max_abs_diff(const Tensor& a, const Tensor& b);

// Runs `body`, which must throw Error(kind) whose one-line message starts with `source` and
// contains `fragment` (doctest checks).
void expect_error(const std::function<void()>& body, ErrorKind kind, const std::string& source,
                  const std::string& fragment);

// An 8-bit RGB image of random bytes, deterministic for a seed.
Image random_image(int64_t width, int64_t height, uint32_t seed);

}  // namespace perceiver::test
