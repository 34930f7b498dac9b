#include "support/test_support.h"

#include <doctest/doctest.h>

#include <random>

#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "models/registry.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace perceiver::test {

namespace fs = std::filesystem;

std::string data_dir() { return PERCEIVER_TEST_DATA; }
std::string golden_dir() { return data_dir() + "/golden"; }
std::string bin_dir() { return PERCEIVER_BIN_DIR; }

namespace {
struct TempRoot {
  std::string path;
  TempRoot() {
    std::string pattern = (fs::temp_directory_path() / "perceiver-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~TempRoot() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};
}  // namespace

std::string temp_dir() {
  static TempRoot root;
  static std::atomic<int> counter{0};
  const std::string dir = root.path + "/" + std::to_string(counter++);
  fs::create_directories(dir);
  return dir;
}

CommandResult run_command(const std::string& command, const std::string& stdin_text) {
  const std::string dir = temp_dir();
  write_text(dir + "/stdin", stdin_text);
  const std::string full = "(" + command + ") <" + dir + "/stdin >" + dir + "/stdout 2>" + dir + "/stderr";
  const int status = std::system(full.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_text(dir + "/stdout");
  result.err = read_text(dir + "/stderr");
  return result;
}

BackgroundCommand start_command(const std::string& command) {
  BackgroundCommand started;
  started.dir = temp_dir();
  const std::string full = "exec " + command + " </dev/null >" + started.dir + "/stdout 2>" + started.dir + "/stderr";
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // The tests signal it: default dispositions even when the suite runs as a background job.
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  started.pid = pid;
  return started;
}

CommandResult wait_command(const BackgroundCommand& command) {
  int status = 0;
  while (::waitpid(command.pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_text(command.dir + "/stdout");
  result.err = read_text(command.dir + "/stderr");
  return result;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<std::string> golden_model_cases() {
  std::vector<std::string> cases;
  for (const auto& entry : fs::directory_iterator(golden_dir())) {
    const fs::path config = entry.path() / "config.json";
    if (!fs::exists(config) || !fs::exists(entry.path() / "outputs.safetensors")) continue;
    const std::string architecture = load_config(config.string()).architecture;
    for (const auto& name : supported_architectures())
      if (name == architecture) cases.push_back(entry.path().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::map<std::string, Tensor> read_tensors(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  return {file.tensors.begin(), file.tensors.end()};
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    throw std::runtime_error("shape " + shape_to_string(a.shape()) + " vs " + shape_to_string(b.shape()));
  const Tensor fa = a.to_f32(), fb = b.to_f32();
  const float* pa = fa.data<float>();
  const float* pb = fb.data<float>();
  double worst = 0;
  for (int64_t i = 0; i < fa.numel(); ++i) {
    const double d = std::fabs(static_cast<double>(pa[i]) - pb[i]);
    if (std::isnan(d)) return INFINITY;
    worst = std::max(worst, d);
  }
  return worst;
}

void expect_error(const std::function<void()>& body, ErrorKind kind, const std::string& source,
                  const std::string& fragment) {
  try {
    body();
    FAIL("expected an Error mentioning: " << fragment);
  } catch (const Error& e) {
    const std::string message = e.what();
    INFO("message: " << message);
    CHECK(e.kind() == kind);
    CHECK(message.rfind(source + ": ", 0) == 0);
    CHECK(message.find(fragment) != std::string::npos);
    CHECK(message.find('\n') == std::string::npos);
  }
}

Image random_image(int64_t width, int64_t height, uint32_t seed) {
  Image image;
  image.width = width;
  image.height = height;
  image.rgb.resize(static_cast<size_t>(width * height * 3));
  std::mt19937 rng(seed);
  for (auto& byte : image.rgb) byte = static_cast<uint8_t>(rng() & 0xff);
  return image;
}

}  // namespace perceiver::test
