// Interrupted batches: SIGKILL in the middle of a batch, then the same command with
// --skip-existing ends with the bytes of an uninterrupted run, and no partial file ever appears
// under a final name; SIGINT/SIGTERM stop between inputs with exit code 11, the summary, and no
// temporary files.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "media/image.h"
#include "cli/output.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {


std::string classify(const std::string& args) {
  return test::kNoSlurm + test::bin_dir() + "/perceiver-classify -t 1 -m " + test::golden_dir() + "/vision_conv --format jsonl " + args;
}

std::string read_if_exists(const std::string& path) {
  std::error_code error;
  return fs::exists(path, error) ? test::read_text(path) : std::string();
}

std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

bool has_temporary(const std::string& dir) {
  for (const std::string& name : listing(dir))
    if (name.find(".tmp.") != std::string::npos) return true;
  return false;
}

// Polls `ready` every 2 ms for up to 60 s; false on timeout.
bool wait_until(const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

size_t newlines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

// 150 small images (three of them corrupt) and the JSON lines of an uninterrupted run over them.
struct Batch {
  std::string images, reference;
  std::string journal;  // the same records in a --skip-existing journal: its line first
};
const Batch& batch() {
  static const Batch made = [] {
    Batch b;
    b.images = test::temp_dir();
    for (int i = 0; i < 150; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "/img_%03d.png", i);
      if (i == 60 || i == 110 || i == 149) test::write_text(b.images + name, "not an image");
      else write_png(b.images + name, test::random_image(20 + i % 5, 16 + i % 3, static_cast<uint32_t>(i)));
    }
    const std::string dir = test::temp_dir();
    const auto r = test::run_command(classify("-q -o " + dir + "/reference.jsonl " + b.images));
    REQUIRE(r.exit_code == 10);
    b.reference = test::read_text(dir + "/reference.jsonl");
    REQUIRE(newlines(b.reference) == 150);
    b.journal = cli::journal_header("perceiver-classify", "0/1") + b.reference;
    return b;
  }();
  return made;
}

// The complete lines of `text` are the reference's first lines.
bool whole_prefix(const std::string& text, const std::string& reference) {
  const size_t end = text.rfind('\n');
  return end == std::string::npos || reference.compare(0, end + 1, text, 0, end + 1) == 0;
}

}  // namespace

TEST_CASE("perceiver-classify --skip-existing -o: SIGKILL mid-batch, then the same command ends byte-identical") {
  const Batch& b = batch();
  const std::string dir = test::temp_dir(), out = dir + "/out.jsonl";
  const std::string command = classify("-q --skip-existing -o " + out + " " + b.images);
  const auto job = test::start_command(command);
  bool prefix_always = true;
  CHECK(wait_until([&] {
    const std::string text = read_if_exists(out);
    prefix_always = prefix_always && whole_prefix(text, b.journal);
    return newlines(text) >= 21;
  }));
  ::kill(job.pid, SIGKILL);
  const auto killed = test::wait_command(job);
  CHECK(killed.exit_code == 128 + SIGKILL);
  CHECK(prefix_always);
  const std::string left = test::read_text(out);
  CHECK(whole_prefix(left, b.journal));
  CHECK(newlines(left) < 151);
  CHECK_FALSE(has_temporary(dir));

  // As if the kill had torn the last record: the rerun cuts it off.
  test::write_text(out, left.substr(0, left.rfind('\n') + 1) + "{\"file\": \"" + b.images + "/img_0");
  const auto again = test::run_command(command);
  CAPTURE(again.err);
  CHECK((again.exit_code == 10 || again.exit_code == 0));
  CHECK(again.err.find("dropped a torn last line") != std::string::npos);
  CHECK(again.err.find("150 inputs: ") != std::string::npos);
  CHECK(again.err.find(std::to_string(newlines(left) - 1) + " skipped") != std::string::npos);
  CHECK(test::read_text(out) == b.journal);
  CHECK(listing(dir) == std::set<std::string>{"out.jsonl"});

  // Everything there: nothing is computed again, and the three bad images (error records) still
  // give exit code 10, so a rerun or a retry (parallel --retries) does not hide them.
  const auto done = test::run_command(command);
  CHECK(done.exit_code == 10);
  CHECK(done.err == "perceiver-classify: 150 inputs: 0 done, 0 failed, 150 skipped (3 of them failed in an earlier run)\n");
  CHECK(test::read_text(out) == b.journal);
}

TEST_CASE("perceiver-classify: SIGINT stops between inputs with exit 11, the summary, whole records, no temporary files") {
  const Batch& b = batch();
  {  // SIGINT with a journal: resumable.
    const std::string dir = test::temp_dir(), out = dir + "/out.jsonl";
    const std::string command = classify("-q --skip-existing -o " + out + " " + b.images);
    const auto job = test::start_command(command);
    CHECK(wait_until([&] { return newlines(read_if_exists(out)) >= 5; }));
    ::kill(job.pid, SIGINT);
    const auto r = test::wait_command(job);
    CAPTURE(r.err);
    CHECK(r.exit_code == 11);
    CHECK(r.err.find("perceiver-classify: interrupted by SIGINT: 150 inputs: ") != std::string::npos);
    CHECK(r.err.find(" not done\n") != std::string::npos);
    const std::string left = test::read_text(out);
    CHECK(left.back() == '\n');
    CHECK(whole_prefix(left, b.journal));
    CHECK(newlines(left) < 151);
    CHECK(listing(dir) == std::set<std::string>{"out.jsonl"});
    const auto again = test::run_command(command);
    CHECK((again.exit_code == 10 || again.exit_code == 0));
    CHECK(test::read_text(out) == b.journal);
  }
}

TEST_CASE("perceiver-mlm: SIGTERM during a FIFO's read stops there, starts no other document, and -o is not written at all") {
  // The second input is a FIFO, so the test knows where the tool is: opening the FIFO for writing
  // returns once the tool opened it for reading, and the signal is sent before its text.
  const std::string dir = test::temp_dir();
  test::write_text(dir + "/a.txt", "one [MASK] two");
  test::write_text(dir + "/c.txt", "three [MASK] four");
  REQUIRE(::mkfifo((dir + "/fifo").c_str(), 0600) == 0);
  const auto job = test::start_command(test::kNoSlurm + test::bin_dir() + "/perceiver-mlm -t 1 -m " + test::golden_dir() + "/mlm --json -o " +
                                       dir + "/out.jsonl " + dir + "/a.txt " + dir + "/fifo " + dir + "/c.txt");
  int fd = -1;  // non-blocking open fails (ENXIO) until the tool has the FIFO open for reading
  REQUIRE(wait_until([&] { return (fd = ::open((dir + "/fifo").c_str(), O_WRONLY | O_NONBLOCK)) >= 0; }));
  ::fcntl(fd, F_SETFL, 0);
  ::kill(job.pid, SIGTERM);
  const std::string text = "the [MASK] in the pipe";
  CHECK(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  const auto r = test::wait_command(job);
  CHECK(r.exit_code == 11);
  CHECK(r.err == "perceiver-mlm: interrupted by SIGTERM: 3 inputs: 1 done, 0 failed, 0 skipped, 2 not done\n");
  CHECK(listing(dir) == std::set<std::string>{"a.txt", "c.txt", "fifo"});
}

TEST_CASE("perceiver-flow --skip-existing: SIGKILL mid-batch, then the .flo files are those of an uninterrupted run") {
  const std::string frames = test::temp_dir();
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/f_%03d.png", i);
    write_png(frames + name, test::random_image(64, 48, static_cast<uint32_t>(i)));
  }
  const std::string flow = test::kNoSlurm + test::bin_dir() + "/perceiver-flow -q -t 1 -m " + test::golden_dir() + "/flow --frames " + frames;
  const std::string reference = test::temp_dir() + "/ref";
  REQUIRE(test::run_command(flow + " -o " + reference).exit_code == 0);
  const std::set<std::string> names = listing(reference);
  REQUIRE(names.size() == 24);

  const std::string out = test::temp_dir() + "/out";
  const std::string command = flow + " --skip-existing -o " + out;
  const auto job = test::start_command(command);
  bool whole_always = true;  // every file under a final name is the reference's, byte for byte
  CHECK(wait_until([&] {
    std::error_code error;
    if (!fs::is_directory(out, error)) return false;
    size_t finished = 0;
    for (const auto& entry : fs::directory_iterator(out, error)) {
      const std::string name = entry.path().filename().string();
      if (name.size() < 4 || name.substr(name.size() - 4) != ".flo") continue;
      whole_always = whole_always && test::read_text(entry.path().string()) == test::read_text(reference + "/" + name);
      ++finished;
    }
    return finished >= 4;
  }));
  ::kill(job.pid, SIGKILL);
  CHECK(test::wait_command(job).exit_code == 128 + SIGKILL);
  CHECK(whole_always);
  const size_t finished = listing(out).size();

  // A temporary file a killed writer left (its process is gone) is removed by the rerun.
  const auto gone = test::start_command("true");
  test::wait_command(gone);
  test::write_text(out + "/f_023.flo.tmp." + std::to_string(gone.pid), "partial");

  const auto again = test::run_command(command);
  CAPTURE(again.err);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("24 inputs: ") != std::string::npos);
  CHECK(again.err.find(" 0 failed, ") != std::string::npos);
  CHECK(listing(out) == names);
  for (const std::string& name : names) CHECK(test::read_text(out + "/" + name) == test::read_text(reference + "/" + name));
  CHECK(finished >= 4);
}

TEST_CASE("perceiver-flow: SIGINT during a large pair abandons it between tiles, writing nothing") {
  // 800×600 with the golden model's 12×16 tiles is thousands of tiles: ~20 s uninterrupted.
  const std::string dir = test::temp_dir();
  write_png(dir + "/a.png", test::random_image(800, 600, 1));
  write_png(dir + "/b.png", test::random_image(800, 600, 2));
  const std::string out = dir + "/out";
  const auto job = test::start_command(test::kNoSlurm + test::bin_dir() + "/perceiver-flow -q -t 1 -m " + test::golden_dir() +
                                       "/flow " + dir + "/a.png " + dir + "/b.png -o " + out);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // loaded, decoding the pair
  const auto signalled = std::chrono::steady_clock::now();
  ::kill(job.pid, SIGINT);
  const auto r = test::wait_command(job);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  CAPTURE(r.err);
  CHECK(r.exit_code == 11);
  CHECK(seconds < 5);  // not the rest of the pair
  CHECK(r.err.find("interrupted by SIGINT") != std::string::npos);
  std::error_code error;
  CHECK((!fs::exists(out, error) || fs::is_empty(out, error)));
}
