// perceiver-train must not hurt its user: a small default model, every default in --help, a
// progress line after the first step, no run into a folder that holds something unless asked,
// no --resume with other flags than the saved run's, and one signal stops it with a checkpoint.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "checkpoint/config.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {

std::string train_tool() { return test::bin_dir() + "/perceiver-train"; }

std::string prose_folder() {
  const std::string dir = test::temp_dir();
  const std::string prose = "The quick brown fox jumps over the lazy dog, and the dog does not mind at all. ";
  for (int i = 0; i < 4; ++i) {
    std::string text;
    for (int r = 0; r < 8; ++r) text += prose;
    test::write_text(dir + "/doc" + std::to_string(i) + ".txt", text);
  }
  return dir;
}

const std::string kTiny =
    " --num-latents 4 --d-latents 16 --d-model 16 --layers 1 --self-heads 2 --cross-heads 2 --window 34 --batch 2";

bool wait_until(const std::function<bool()>& ready) {
  for (int i = 0; i < 600; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

TEST_CASE("perceiver-train: a non-empty -o is refused unless --resume or --overwrite, and nothing in it is touched") {
  const std::string data = prose_folder(), out = test::temp_dir() + "/model";
  fs::create_directories(out);
  test::write_text(out + "/notes.txt", "my notes\n");
  const std::string command = train_tool() + " mlm -q -t 1 --data " + data + " --held-out-every 2" + kTiny +
                              " --steps 2 --log-every 1 -o " + out;
  const test::CommandResult refused = test::run_command(command);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err == "perceiver-train: error: " + out +
                           ": not empty; give --resume to continue the run saved there, or --overwrite to replace "
                           "its model and metrics\n");
  CHECK(test::read_text(out + "/notes.txt") == "my notes\n");
  CHECK(!fs::exists(out + "/model.safetensors"));

  const test::CommandResult overwritten = test::run_command(command + " --overwrite");
  REQUIRE_MESSAGE(overwritten.exit_code == 0, overwritten.err);
  CHECK(fs::exists(out + "/model.safetensors"));
  CHECK(test::read_text(out + "/notes.txt") == "my notes\n");

  // A second run into the trained folder is refused too: the trained model stays.
  const std::string model = test::read_text(out + "/model.safetensors");
  CHECK(test::run_command(command).exit_code == 2);
  CHECK(test::read_text(out + "/model.safetensors") == model);

  // -o naming a file is an output error (8), the file unchanged.
  CHECK(test::run_command(train_tool() + " mlm -q --data " + data + " -o " + out + "/notes.txt").exit_code == 8);
  CHECK(test::read_text(out + "/notes.txt") == "my notes\n");
}

TEST_CASE("perceiver-train --resume refuses flags that differ from the saved run's, naming each") {
  const std::string data = prose_folder(), out = test::temp_dir() + "/model";
  const std::string common = train_tool() + " mlm -q -t 1 --data " + data + " --held-out-every 2" + kTiny +
                             " --steps 4 --log-every 1 --seed 3 -o " + out;
  const test::CommandResult first = test::run_command(common + " --lr 1e-3 --stop-after 2");
  REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  const std::string model = test::read_text(out + "/model.safetensors");

  const test::CommandResult changed = test::run_command(common + " --lr 5e-4 --masking letters --resume");
  CHECK(changed.exit_code == 2);
  CAPTURE(changed.err);
  CHECK(changed.err.find(out + ": --resume needs the flags of the saved run: ") != std::string::npos);
  CHECK(changed.err.find("--lr 0.00050000000000000001 (the checkpoint has 0.001)") != std::string::npos);
  CHECK(changed.err.find("--masking letters (the checkpoint has mixture)") != std::string::npos);
  CHECK(std::count(changed.err.begin(), changed.err.end(), '\n') == 1);
  CHECK(test::read_text(out + "/model.safetensors") == model);

  const test::CommandResult shape = test::run_command(
      train_tool() + " mlm -q -t 1 --data " + data + " --held-out-every 2" +
      " --num-latents 4 --d-latents 16 --d-model 32 --layers 1 --self-heads 2 --cross-heads 2 --window 34 --batch 2" +
      " --steps 4 --log-every 1 --seed 3 --lr 1e-3 --resume -o " + out);
  CHECK(shape.exit_code == 2);
  CHECK(shape.err.find("--d-model 32 (the checkpoint has 16)") != std::string::npos);

  const test::CommandResult same = test::run_command(common + " --lr 1e-3 --resume");
  REQUIRE_MESSAGE(same.exit_code == 0, same.err);
  CHECK(nlohmann::json::parse(same.out)["steps_done"] == 4);
}

TEST_CASE("perceiver-train: with no size flag the model is small, every default is in --help, a first progress line") {
  const std::string data = prose_folder(), out = test::temp_dir() + "/model";
  const test::CommandResult run = test::run_command(train_tool() + " mlm -t 1 --data " + data +
                                                    " --held-out-every 2 --batch 2 --steps 2 --log-every 100 -o " + out);
  REQUIRE_MESSAGE(run.exit_code == 0, run.err);
  CHECK(run.err.find("model: 1110534 parameters, window 128 tokens\n") != std::string::npos);
  CHECK(run.err.find("step 1/2  loss ") != std::string::npos);  // before the first log interval
  const PerceiverConfig config = load_config(out + "/config.json");
  CHECK(config.d_model == 128);
  CHECK(config.d_latents == 128);
  CHECK(config.num_latents == 128);
  CHECK(config.num_self_attends_per_block == 6);
  CHECK(config.max_position_embeddings == 128);

  const std::string help = test::run_command(train_tool() + " mlm --help").out;
  for (const char* option : {"--d-model", "--d-latents", "--num-latents", "--layers", "--window", "--steps", "--lr",
                             "--batch", "--masking", "--init", "--seed", "--warmup", "--max-bytes", "--stop-after"}) {
    CAPTURE(option);
    const size_t at = help.find(std::string("  ") + option);
    REQUIRE(at != std::string::npos);
    const std::string line = help.substr(at, help.find('\n', at) - at);
    CHECK(line.find('=') != std::string::npos);  // CLI11 shows the default as TYPE=value
  }
  const std::string classify_help = test::run_command(train_tool() + " classify --help").out;
  CHECK(classify_help.find("--num-latents INT:NONNEGATIVE=64") != std::string::npos);
}

TEST_CASE("perceiver-train: one SIGTERM or SIGINT stops at the next step with the checkpoint written, exit 11") {
  const std::string data = prose_folder();
  for (int signal : {SIGTERM, SIGINT}) {
    CAPTURE(signal);
    const std::string out = test::temp_dir() + "/model";
    const auto job = test::start_command(train_tool() + " mlm -t 1 --data " + data + " --held-out-every 2" +
                                         kTiny + " --steps 1000000 --log-every 1000000 -o " + out);
    REQUIRE(wait_until([&] {
      return fs::exists(job.dir + "/stderr") && test::read_text(job.dir + "/stderr").find("step 1/") != std::string::npos;
    }));
    ::kill(job.pid, signal);
    const test::CommandResult r = test::wait_command(job);
    CAPTURE(r.err);
    CHECK(r.exit_code == 11);
    CHECK(r.err.find("interrupted at step ") != std::string::npos);
    const nlohmann::json summary = nlohmann::json::parse(r.out);
    const int64_t steps = summary["steps_done"];
    CHECK(steps >= 1);
    CHECK(steps < 1000000);
    // The checkpoint resumes.
    const test::CommandResult resumed = test::run_command(train_tool() + " mlm -q -t 1 --data " + data +
                                                          " --held-out-every 2" + kTiny +
                                                          " --steps 1000000 --log-every 1000000 --stop-after 1 --resume -o " + out);
    REQUIRE_MESSAGE(resumed.exit_code == 0, resumed.err);
    CHECK(nlohmann::json::parse(resumed.out)["steps_done"] == steps + 1);
  }
}
