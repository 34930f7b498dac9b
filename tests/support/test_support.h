// Helpers shared by the tests: paths to data and binaries, temporary folders, running a
// command and capturing its output, comparing tensors.
#pragma once

#include <string>

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

}  // namespace perceiver::test
