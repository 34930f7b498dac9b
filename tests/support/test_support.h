// Helpers shared by the tests: paths to data and binaries, temporary folders, running a
// command and capturing its output, comparing tensors.
#pragma once

#include <string>

#include <cstdint>
#include <functional>

#include "common/error.h"
#include "media/image.h"
#include "tensor/tensor.h"

namespace perceiver::test {

std::string data_dir();    // tests/data
std::string golden_dir();  // tests/data/golden
std::string bin_dir();     // where perceiver-run, perceiver-mlm, … are built

// A fresh empty directory, removed at the end of the test process.
std::string temp_dir();

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `command` through /bin/sh with `stdin_text` on its standard input.
CommandResult run_command(const std::string& command, const std::string& stdin_text = "");

std::string read_text(const std::string& path);
void write_text(const std::string& path, const std::string& text);

// Largest |a - b| over two F32 tensors of equal shape (throws on shape mismatch).
double max_abs_diff(const Tensor& a, const Tensor& b);

// Runs `body`, which must throw Error(kind) whose one-line message starts with `source` and
// contains `fragment` (doctest checks).
void expect_error(const std::function<void()>& body, ErrorKind kind, const std::string& source,
                  const std::string& fragment);

// An 8-bit RGB image of random bytes, deterministic for a seed.
Image random_image(int64_t width, int64_t height, uint32_t seed);

}  // namespace perceiver::test
