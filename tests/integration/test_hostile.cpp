// The promises of docs/batch.md in hostile surroundings, not only with bad files: outputs onto
// devices and FIFOs, journals the tool did not write, inputs that can be read only once, deeply
// nested JSON, non-finite numbers, folder walks through odd links, sizes in config.json, and
// what reaches a terminal. Each case checks the exit code, the one-line message, what is on disk
// afterwards and, for batches, that the other inputs were done.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <thread>

#include <nlohmann/json.hpp>

#include "checkpoint/safetensors.h"
#include "cli/output.h"
#include "media/audio.h"
#include "media/image.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string classify(const std::string& args) {
  return test::kNoSlurm + test::bin_dir() + "/perceiver-classify -q -t 1 -m " + test::golden_dir() + "/vision_conv " + args;
}
std::string mlm(const std::string& args) {
  return test::kNoSlurm + test::bin_dir() + "/perceiver-mlm -q -t 1 -m " + test::golden_dir() + "/mlm " + args;
}


// A folder with `count` small PNGs a.png, b.png, ...
std::string image_folder(int count) {
  const std::string dir = test::temp_dir();
  for (int i = 0; i < count; ++i)
    write_png(dir + "/" + std::string(1, static_cast<char>('a' + i)) + ".png", test::random_image(12, 10, static_cast<uint32_t>(i)));
  return dir;
}

// A copy of a golden model folder, to change.
std::string model_copy(const std::string& name) {
  const std::string dir = test::temp_dir() + "/" + name;
  fs::copy(test::golden_dir() + "/" + name, dir, fs::copy_options::recursive);
  return dir;
}

bool is_char_device(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISCHR(info.st_mode);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool wait_until(const std::function<bool()>& ready) {
  for (int i = 0; i < 400; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

}  // namespace

TEST_CASE("outputs: a device or FIFO is written in place, never replaced, a folder or dangling link is refused, exit 8") {
  const std::string images = image_folder(2);
  SUBCASE("-o /dev/null (as root a rename would replace the device)") {
    const test::CommandResult r = test::run_command(classify("--format jsonl -o /dev/null " + images));
    CHECK(r.exit_code == 0);
    CHECK(is_char_device("/dev/null"));
    const test::CommandResult flo = test::run_command(
        test::kNoSlurm + test::bin_dir() + "/perceiver-flow -q -t 1 -m " + test::golden_dir() + "/flow " + images +
        "/a.png " + images + "/b.png -o /dev/null");
    CHECK(flo.exit_code == 0);
    CHECK(is_char_device("/dev/null"));
  }
  SUBCASE("-o a FIFO: a reader gets the records") {
    const std::string dir = test::temp_dir(), fifo = dir + "/results";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const auto reader = test::start_command("cat " + fifo);
    const test::CommandResult r = test::run_command(classify("--format jsonl -o " + fifo + " " + images));
    CHECK(r.exit_code == 0);
    const test::CommandResult got = test::wait_command(reader);
    CHECK(test::count_lines(got.out) == 2);
    struct stat info {};
    REQUIRE(::stat(fifo.c_str(), &info) == 0);
    CHECK(S_ISFIFO(info.st_mode));
  }
  SUBCASE("-o a folder, a dangling link: refused before any work, left as they were") {
    const std::string dir = test::temp_dir();
    fs::create_directories(dir + "/out");
    test::CommandResult r = test::run_command(classify("--format jsonl -o " + dir + "/out " + images));
    CHECK(r.exit_code == 8);
    CHECK(r.err == "perceiver-classify: error: " + dir + "/out: is a directory, not a file\n");
    CHECK(fs::is_directory(dir + "/out"));
    CHECK(fs::is_empty(dir + "/out"));
    fs::create_symlink(dir + "/nowhere", dir + "/link");
    r = test::run_command(classify("--format jsonl -o " + dir + "/link " + images));
    CHECK(r.exit_code == 8);
    CHECK(r.err.find(dir + "/link: a symbolic link to nothing") != std::string::npos);
    CHECK(fs::is_symlink(dir + "/link"));
    CHECK_FALSE(fs::exists(dir + "/nowhere"));
  }
  SUBCASE("-o a symbolic link to a file: the file is replaced, the link stays") {
    const std::string dir = test::temp_dir();
    test::write_text(dir + "/real.jsonl", "old\n");
    fs::create_symlink(dir + "/real.jsonl", dir + "/link.jsonl");
    const test::CommandResult r = test::run_command(classify("--format jsonl -o " + dir + "/link.jsonl " + images));
    CHECK(r.exit_code == 0);
    CHECK(fs::is_symlink(dir + "/link.jsonl"));
    CHECK(test::count_lines(test::read_text(dir + "/real.jsonl")) == 2);
  }
}

TEST_CASE("journals: a file the tool did not write is refused and never changed, a locked journal is refused") {
  const std::string images = image_folder(3);
  const std::string dir = test::temp_dir();
  SUBCASE("a one-line file of the user's") {
    for (const std::string& text : {std::string("my notes"), std::string("my notes\n"), std::string("{\"file\": \"x\"}\n")}) {
      test::write_text(dir + "/notes.txt", text);
      const test::CommandResult r = test::run_command(classify("--format jsonl --skip-existing -o " + dir + "/notes.txt " + images));
      CHECK(r.exit_code == 8);
      CHECK(r.err.find(dir + "/notes.txt: not a journal of perceiver-classify") != std::string::npos);
      CHECK(test::count_lines(r.err) == 1);
      CHECK(test::read_text(dir + "/notes.txt") == text);
    }
  }
  SUBCASE("perceiver-mlm with -o naming its own input document") {
    test::write_text(dir + "/doc.txt", "The [MASK] is here.");
    const test::CommandResult r = test::run_command(mlm("--json --skip-existing -o " + dir + "/doc.txt " + dir + "/doc.txt"));
    CHECK(r.exit_code == 8);
    CHECK(test::read_text(dir + "/doc.txt") == "The [MASK] is here.");
  }
  SUBCASE("a journal in use by another run, and one of another shard") {
    const std::string journal = dir + "/out.jsonl";
    REQUIRE(test::run_command(classify("--format jsonl --skip-existing -o " + journal + " " + images + "/a.png")).exit_code == 0);
    const std::string before = test::read_text(journal);
    const int fd = ::open(journal.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);  // as a second run holding it would
    const test::CommandResult locked = test::run_command(classify("--format jsonl --skip-existing -o " + journal + " " + images));
    ::close(fd);
    CHECK(locked.exit_code == 8);
    CHECK(locked.err.find("another run is writing this journal") != std::string::npos);
    CHECK(test::read_text(journal) == before);
    const test::CommandResult shard =
        test::run_command(classify("--format jsonl --skip-existing --shard 1/2 -o " + journal + " " + images));
    CHECK(shard.exit_code == 2);
    CHECK(shard.err.find("a journal of --shard 0/1, not of this run's 1/2") != std::string::npos);
    CHECK(test::read_text(journal) == before);
    const test::CommandResult resumed = test::run_command(classify("--format jsonl --skip-existing -o " + journal + " " + images));
    CHECK(resumed.exit_code == 0);
    CHECK(test::count_lines(test::read_text(journal)) == 4);  // the journal line and three records
  }
  SUBCASE("a journal must be a regular file") {
    const test::CommandResult r = test::run_command(classify("--format jsonl --skip-existing -o /dev/null " + images));
    CHECK(r.exit_code == 8);
    CHECK(is_char_device("/dev/null"));
  }
}

TEST_CASE("inputs read once: pipes, FIFOs and /dev/stdin, a FIFO in a folder or as a model file never blocks") {
  SUBCASE("perceiver-mlm --lines reads a process substitution and /dev/stdin once") {
    const test::CommandResult sub = test::run_command("bash -c \"" + mlm("--lines <(printf 'a[MASK]c\\nd[MASK]f\\n')") + "\"");
    CHECK(sub.exit_code == 0);
    CHECK(test::count_lines(sub.out) == 2);
    const test::CommandResult dev = test::run_command("printf 'a[MASK]c\\nd[MASK]f\\n' | " + mlm("--lines /dev/stdin"));
    CHECK(dev.exit_code == 0);
    CHECK(test::count_lines(dev.out) == 2);
    const test::CommandResult shard = test::run_command("printf 'a[MASK]c\\nd[MASK]f\\ng[MASK]i\\n' | " + mlm("--lines --shard 1/3 /dev/stdin"));
    CHECK(shard.exit_code == 0);
    CHECK(test::count_lines(shard.out) == 1);
  }
  SUBCASE("a FIFO among a folder's images is skipped with one note") {
    const std::string images = image_folder(2);
    REQUIRE(::mkfifo((images + "/fifo.png").c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    const test::CommandResult r = test::run_command(classify("--format jsonl " + images));
    CHECK(seconds_since(start) < 20);
    CHECK(r.exit_code == 0);
    CHECK(test::count_lines(r.out) == 2);
    CHECK(r.err == "perceiver-classify: " + images + "/fifo.png: not a regular file (a FIFO, device or socket), skipped\n" +
                       "perceiver-classify: 2 inputs: 2 done, 0 failed, 0 skipped\n");
  }
  SUBCASE("config.json or model.safetensors as a FIFO is refused at once") {
    const std::string model = model_copy("vision_conv");
    fs::remove(model + "/model.safetensors");
    REQUIRE(::mkfifo((model + "/model.safetensors").c_str(), 0600) == 0);
    const std::string image = image_folder(1) + "/a.png";
    test::CommandResult r = test::run_command(test::bin_dir() + "/perceiver-classify -q -m " + model + " " + image);
    CHECK(r.exit_code == 4);
    CHECK(r.err.find(model + "/model.safetensors: not a regular file") != std::string::npos);
    fs::remove(model + "/config.json");
    REQUIRE(::mkfifo((model + "/config.json").c_str(), 0600) == 0);
    r = test::run_command(test::bin_dir() + "/perceiver-classify -q -m " + model + " " + image);
    CHECK(r.exit_code == 6);
    CHECK(r.err == "perceiver-classify: error: " + model + "/config.json: not a regular file (a FIFO, device or socket is not read)\n");
  }
  SUBCASE("SIGTERM while waiting on a silent FIFO: exit 11 within a second") {
    const std::string dir = test::temp_dir(), fifo = dir + "/in";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    for (const std::string& command : {mlm("--lines " + fifo), classify("@" + fifo)}) {
      CAPTURE(command);
      const auto job = test::start_command(command);
      int writer = -1;  // opens once the tool has the FIFO open; the tool then waits in read()
      REQUIRE(wait_until([&] { return (writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK)) >= 0; }));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      const auto start = std::chrono::steady_clock::now();
      ::kill(job.pid, SIGTERM);
      const test::CommandResult r = test::wait_command(job);
      ::close(writer);
      CHECK(seconds_since(start) < 1.0);
      CHECK(r.exit_code == 11);
      // perceiver-mlm is in its batch (the summary counts the line it waited for); classify was
      // still reading its list.
      CHECK((r.err.find("interrupted by SIGTERM: 1 input: 0 done, 0 failed, 0 skipped, 1 not done") != std::string::npos ||
             r.err.find(fifo + ": interrupted while waiting for input") != std::string::npos));
      CHECK(test::count_lines(r.err) == 1);
    }
  }
}

TEST_CASE("deeply nested JSON in a config, a processor config, a safetensors header or a journal: one line, no crash") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  SUBCASE("config.json and preprocessor_config.json") {
    const std::string model = model_copy("vision_conv");
    const std::string image = image_folder(1) + "/a.png";
    test::write_text(model + "/preprocessor_config.json", "{\"size\": " + deep + "}");
    test::CommandResult r = test::run_command(test::bin_dir() + "/perceiver-classify -q -m " + model + " " + image);
    CHECK(r.exit_code == 6);
    CHECK(r.err == "perceiver-classify: error: " + model + "/preprocessor_config.json: JSON nested more than 64 levels deep\n");
    test::write_text(model + "/config.json", "{\"architectures\": " + deep + "}");
    r = test::run_command(test::bin_dir() + "/perceiver-classify -q -m " + model + " " + image);
    CHECK(r.exit_code == 6);
    CHECK(r.err == "perceiver-classify: error: " + model + "/config.json: JSON nested more than 64 levels deep\n");
  }
  SUBCASE("a safetensors header") {
    const std::string model = model_copy("mlm");
    std::string header = "{\"x\": " + deep + "}";
    std::string file(8, '\0');
    for (int i = 0; i < 8; ++i) file[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
    test::write_text(model + "/model.safetensors", file + header);
    const test::CommandResult r = test::run_command(test::bin_dir() + "/perceiver-mlm -q -t 1 -m " + model, "a[MASK]");
    CHECK(r.exit_code == 4);
    CHECK(r.err.find("header is JSON nested more than 64 levels deep") != std::string::npos);
    CHECK(test::count_lines(r.err) == 1);
  }
  SUBCASE("a journal line") {
    const std::string dir = test::temp_dir(), journal = dir + "/out.jsonl";
    test::write_text(journal, cli::journal_header("perceiver-classify", "0/1") + "{\"file\": " + deep + "}\n{\"file\":\"b\"}\n");
    const test::CommandResult r = test::run_command(classify("--format jsonl --skip-existing -o " + journal + " " + image_folder(1)));
    CHECK(r.exit_code == 8);
    CHECK(r.err.find(journal + ":2: not a record of this tool") != std::string::npos);
  }
}

TEST_CASE("non-finite numbers: a NaN sample is refused, a NaN weight fails the inputs naming the weights file") {
  SUBCASE("a float WAV with one NaN sample") {
    const std::string dir = test::temp_dir();
    std::vector<float> wave(400, 0.25f);
    wave[123] = std::numeric_limits<float>::quiet_NaN();
    write_audio(dir + "/nan.wav", Audio{200, wave}, AudioEncoding::Float32);
    for (int i = 0; i < 2; ++i) write_png(dir + "/" + std::to_string(i) + ".png", test::random_image(8, 8, static_cast<uint32_t>(i)));
    const test::CommandResult r = test::run_command(test::bin_dir() + "/perceiver-autoencode -q -t 1 -m " + test::golden_dir() +
                                                    "/multimodal_full --video " + dir + " --audio " + dir + "/nan.wav -o " + dir + "/out");
    CHECK(r.exit_code == 7);
    CHECK(r.err == "perceiver-autoencode: error: " + dir + "/nan.wav: cannot read audio (a NaN or infinite sample at frame 123)\n");
    CHECK_FALSE(fs::exists(dir + "/out/summary.json"));
  }
  SUBCASE("a NaN in a weight tensor") {
    const std::string model = model_copy("vision_conv");
    auto tensors = test::read_tensors(model + "/model.safetensors");
    std::vector<std::pair<std::string, Tensor>> changed;
    for (auto& [name, tensor] : tensors) {
      Tensor copy = tensor.clone();
      if (name == "perceiver.embeddings.latents") copy.mutable_data<float>()[3] = std::numeric_limits<float>::quiet_NaN();
      changed.emplace_back(name, copy);
    }
    write_safetensors(model + "/model.safetensors", changed);
    const std::string images = image_folder(2);
    const test::CommandResult r =
        test::run_command(test::kNoSlurm + test::bin_dir() + "/perceiver-classify -q -t 1 -m " + model + " --format jsonl " + images);
    CHECK(r.exit_code == 10);
    CHECK(r.out.find("\"top\"") == std::string::npos);  // no result with NaN probabilities
    CHECK(r.err.find(images + "/a.png: the model's logits are not finite (NaN or infinity): a non-finite weight in " + model +
                     "/model.safetensors is the likely cause") != std::string::npos);
    CHECK(test::count_lines(r.out) == 2);  // an error record per input
  }
}

TEST_CASE("folder walks: each real folder once, a dangling or looping link reported once, the batch goes on") {
  const std::string images = image_folder(2);
  fs::create_directories(images + "/sub");
  write_png(images + "/sub/c.png", test::random_image(12, 10, 9));
  fs::create_directory_symlink(".", images + "/sub/self");
  fs::create_directory_symlink("..", images + "/sub/up");
  fs::create_symlink(images + "/gone.png", images + "/zz-dangling.png");  // the last entry
  fs::create_symlink(images + "/loop.png", images + "/loop.png.tmp");
  fs::create_symlink(images + "/loop.png.tmp", images + "/loop.png");
  const test::CommandResult r = test::run_command(classify("-r --format jsonl " + images));
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
  CHECK(test::count_lines(r.out) == 3);  // a.png, b.png, sub/c.png, once each
  CHECK(r.err.find(images + "/zz-dangling.png: a dangling symbolic link, skipped") != std::string::npos);
  CHECK(r.err.find(images + "/loop.png: a symbolic link loop, skipped") != std::string::npos);
  CHECK(r.err.find("a folder already listed") != std::string::npos);
  // A looping link as an argument is one failed input, not the end of the batch.
  const test::CommandResult arg = test::run_command(classify("--format jsonl " + images + "/loop.png " + images + "/a.png"));
  CHECK(arg.exit_code == 10);
  CHECK(test::count_lines(arg.out) == 2);
  CHECK(arg.err.find(images + "/loop.png: cannot open the file") != std::string::npos);
}

TEST_CASE("sizes in config.json are bounded: exit 6 naming the field, before anything is allocated") {
  const std::string image = image_folder(1) + "/a.png";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\"num_blocks\": 1000000000", "num_blocks is 1000000000, more than this implementation's bound of 64"},
      {"\"d_latents\": 4611686018427387904", "d_latents is 4611686018427387904"},
      {"\"image_size\": 3037000500", "image_size is 3037000500"},
      {"\"train_size\": [4294967296, 4294967296]", "train_size[0] is 4294967296"},
      {"\"num_latents\": 60000, \"d_latents\": 16000", "num_latents × d_latents is 960000000"},
  };
  for (const auto& [field, message] : cases) {
    CAPTURE(field);
    const std::string model = model_copy("vision_conv");
    nlohmann::json json = nlohmann::json::parse(test::read_text(model + "/config.json"));
    const nlohmann::json fields = nlohmann::json::parse("{" + field + "}");
    for (const auto& [key, value] : fields.items()) json[key] = value;
    test::write_text(model + "/config.json", json.dump());
    const auto start = std::chrono::steady_clock::now();
    const test::CommandResult r = test::run_command(test::bin_dir() + "/perceiver-classify -q -m " + model + " " + image);
    CHECK(seconds_since(start) < 10);
    CHECK(r.exit_code == 6);
    CHECK(r.err.find(model + "/config.json: " + message) != std::string::npos);
    CHECK(test::count_lines(r.err) == 1);
  }
}

TEST_CASE("terminal safety: control characters from model files are escaped, -t is bounded") {
  const std::string model = model_copy("vision_conv");
  nlohmann::json json = nlohmann::json::parse(test::read_text(model + "/config.json"));
  for (auto& [id, label] : json["id2label"].items()) label = "evil\x1b[2Jlabel\tx";
  test::write_text(model + "/config.json", json.dump());
  const std::string image = image_folder(1) + "/a.png";
  const test::CommandResult text = test::run_command(test::bin_dir() + "/perceiver-classify -q -t 1 -k 1 -m " + model + " " + image);
  CHECK(text.exit_code == 0);
  CHECK(text.out.find('\x1b') == std::string::npos);
  CHECK(text.out.find("evil\\x1b[2Jlabel\\tx") != std::string::npos);
  const test::CommandResult tsv = test::run_command(test::bin_dir() + "/perceiver-classify -q -t 1 -k 1 -f tsv -m " + model + " " + image);
  CHECK(tsv.out.find("\tevil\\x1b[2Jlabel\\tx\t") != std::string::npos);
  // A message quoting a file's text: the ESC is escaped there too.
  test::write_text(model + "/config.json", "{\"architectures\": [\"Evil\\u001b[2J\"]}");  // a JSON-escaped ESC
  const test::CommandResult bad = test::run_command(test::bin_dir() + "/perceiver-classify -q -m " + model + " " + image);
  CHECK(bad.exit_code == 6);
  CHECK(bad.err.find('\x1b') == std::string::npos);
  CHECK(bad.err.find("\\x1b") != std::string::npos);
  for (const std::string tool : {"perceiver-mlm", "perceiver-classify", "perceiver-flow", "perceiver-autoencode", "perceiver-run"}) {
    CAPTURE(tool);
    const test::CommandResult r = test::run_command(test::bin_dir() + "/" + tool + " -t 65536 x");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(tool + ": error: --threads: Value 65536 not in range 0 to 1024") == 0);
    CHECK(test::count_lines(r.err) == 1);
  }
}

TEST_CASE("out of memory: /dev/zero as an image is refused after its first bytes, the good images after it are done") {
  const std::string images = image_folder(2);
  const auto start = std::chrono::steady_clock::now();
  // Under a 4 GB address-space limit a tool that read /dev/zero to stb_image's 2 GiB would run
  // out of memory. (AddressSanitizer reserves terabytes of address space: no limit there.)
#if defined(__SANITIZE_ADDRESS__)
  const std::string limit;
#else
  const std::string limit = "ulimit -v 4000000; ";
#endif
  const test::CommandResult r =
      test::run_command(limit + classify("--format jsonl /dev/zero " + images + "/a.png " + images + "/b.png"));
  CHECK(seconds_since(start) < 20);
  CHECK(r.exit_code == 10);
  CHECK(r.err.find("/dev/zero: not a readable image (unknown image format)") != std::string::npos);
  CHECK(test::count_lines(r.out) == 3);
}

namespace {

// Runs `argv` (no shell) with stdin from /dev/null and stdout to `out`; its exit code and peak RSS.
std::pair<int, long> run_measured(const std::vector<std::string>& argv, const std::string& out) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int in = ::open("/dev/null", O_RDONLY), to = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0), ::dup2(to, 1), ::dup2(to, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), usage.ru_maxrss};
}

}  // namespace

TEST_CASE("work per mask: memory for a document does not grow with its masks, SIGTERM stops between windows") {
  const std::string dir = test::temp_dir();
  const std::string tool = test::bin_dir() + "/perceiver-mlm";
  const std::string model = test::golden_dir() + "/mlm";
  long peak[2] = {0, 0};
  const int masks[2] = {3000, 60000};
  for (int i = 0; i < 2; ++i) {
    const std::string doc = dir + "/doc" + std::to_string(i) + ".txt";
    test::write_text(doc, "x[MASK:" + std::to_string(masks[i]) + "]y");
    const auto [code, rss] = run_measured({tool, "-q", "-t", "1", "-m", model, "--json", "-k", "5", doc}, dir + "/out.jsonl");
    CHECK(code == 0);
    peak[i] = rss;
    const std::string record = test::read_text(dir + "/out.jsonl");
    CHECK(test::count_lines(record) == 1);
    CHECK(nlohmann::json::parse(record)["masks"].size() == static_cast<size_t>(masks[i]));
  }
  MESSAGE("peak RSS: " << peak[0] << " KiB for " << masks[0] << " masks, " << peak[1] << " KiB for " << masks[1]);
  // 20 times the masks: a few MiB more at most (the document's own bytes), not 4.5 KiB a mask.
  CHECK(peak[1] - peak[0] < 16 * 1024);

  // SIGTERM in the middle of that document: exit 11 at the next window, -o not written, a
  // journal cut back to before the abandoned record.
  for (const bool journal : {false, true}) {
    CAPTURE(journal);
    const std::string out = dir + (journal ? "/journal.jsonl" : "/whole.jsonl");
    const auto job = test::start_command(test::kNoSlurm + tool + " -t 1 -m " + model + " --json -o " + out +
                                         (journal ? " --skip-existing " : " ") + dir + "/doc1.txt");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    const auto start = std::chrono::steady_clock::now();
    ::kill(job.pid, SIGTERM);
    const test::CommandResult r = test::wait_command(job);
    CHECK(seconds_since(start) < 1.0);
    CHECK(r.exit_code == 11);
    CHECK(r.err.find("interrupted by SIGTERM: 1 input: 0 done, 0 failed, 0 skipped, 1 not done") != std::string::npos);
    if (journal) CHECK(test::read_text(out) == cli::journal_header("perceiver-mlm", "0/1"));
    else CHECK_FALSE(fs::exists(out));
    CHECK(fs::directory_iterator(dir) != fs::directory_iterator());
    for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().string().find(".tmp.") == std::string::npos);
  }
}

TEST_CASE("perceiver-mlm --lines answers each line as soon as it is complete, before the writer closes the pipe") {
  const std::string dir = test::temp_dir(), fifo = dir + "/lines";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const auto job = test::start_command(mlm("--lines --json " + fifo));
  int writer = -1;
  REQUIRE(wait_until([&] { return (writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK)) >= 0; }));
  ::fcntl(writer, F_SETFL, 0);
  const std::string first = "a[MASK]c\n";
  REQUIRE(::write(writer, first.data(), first.size()) == static_cast<ssize_t>(first.size()));
  // The first record arrives while the pipe is still open (a generous bound: the golden model
  // answers in milliseconds).
  CHECK(wait_until([&] { return test::count_lines(test::read_text(job.dir + "/stdout")) == 1; }));
  const std::string second = "d[MASK]f\n";
  REQUIRE(::write(writer, second.data(), second.size()) == static_cast<ssize_t>(second.size()));
  ::close(writer);
  const test::CommandResult r = test::wait_command(job);
  CHECK(r.exit_code == 0);
  CHECK(test::count_lines(r.out) == 2);
  CHECK(nlohmann::json::parse(r.out.substr(r.out.find('\n') + 1))["line"] == 2);
}

TEST_CASE("perceiver-classify - answers each path as soon as its line is complete, also with --batch, and a shard reads the whole list") {
  const std::string dir = test::temp_dir(), fifo = dir + "/paths";
  for (int i = 0; i < 3; ++i) write_png(dir + "/" + std::to_string(i) + ".png", test::random_image(32, 32, static_cast<uint32_t>(i)));
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string classify = test::kNoSlurm + test::bin_dir() + "/perceiver-classify -q -t 1 -m " + test::golden_dir() +
                               "/vision_conv --format jsonl -k 1 ";
  const auto job = test::start_command("sh -c 'exec " + classify + "-b 4 - < " + fifo + "'");  // stdin: the FIFO
  int writer = -1;
  REQUIRE(wait_until([&] { return (writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK)) >= 0; }));
  ::fcntl(writer, F_SETFL, 0);
  const std::string first = dir + "/0.png\n";
  REQUIRE(::write(writer, first.data(), first.size()) == static_cast<ssize_t>(first.size()));
  // The first record arrives while the pipe is still open, although the batch of 4 is not full.
  CHECK(wait_until([&] { return test::count_lines(test::read_text(job.dir + "/stdout")) == 1; }));
  const std::string rest = dir + "/1.png\n" + dir + "/2.png\n";
  REQUIRE(::write(writer, rest.data(), rest.size()) == static_cast<ssize_t>(rest.size()));
  ::close(writer);
  const test::CommandResult r = test::wait_command(job);
  CHECK(r.exit_code == 0);
  CHECK(test::count_lines(r.out) == 3);
  CHECK(nlohmann::json::parse(r.out.substr(0, r.out.find('\n')))["file"] == dir + "/0.png");
  // A shard of a stream is a block of the whole list, read to its end first.
  const std::string list = dir + "/0.png\n" + dir + "/1.png\n" + dir + "/2.png\n";
  const test::CommandResult whole = test::run_command(classify + "-", list);
  const test::CommandResult shard0 = test::run_command(classify + "--shard 0/2 -", list);
  const test::CommandResult shard1 = test::run_command(classify + "--shard 1/2 -", list);
  CHECK(whole.exit_code == 0);
  CHECK(whole.out == r.out);
  CHECK(test::count_lines(shard0.out) == 2);
  CHECK(shard0.out + shard1.out == whole.out);
}
