// Batch semantics shared by the four tools (docs/batch.md, docs/scaling.md): bad inputs reported
// one line each and skipped, the summary line and exit codes, --shard (and its Slurm defaults),
// and limits whose messages name the flag that raises them.
#include <doctest/doctest.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/shard.h"
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
  return test::kNoSlurm + test::bin_dir() + "/perceiver-mlm -t 1 -m " + test::golden_dir() + "/mlm " + args;
}
std::string flow(const std::string& args) {
  return test::kNoSlurm + test::bin_dir() + "/perceiver-flow -q -t 1 -m " + test::golden_dir() + "/flow " + args;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

std::string numbered(const std::string& dir, const char* prefix, int i, const char* extension) {
  char name[64];
  std::snprintf(name, sizeof name, "/%s%03d%s", prefix, i, extension);
  return dir + name;
}

uint32_t crc32(const std::string& bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// A PNG signature and IHDR chunk announcing width × height RGB pixels, and no pixel data.
std::string png_header(uint32_t width, uint32_t height) {
  const std::string body = "IHDR" + be32(width) + be32(height) + std::string("\x08\x02\x00\x00\x00", 5);
  return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + body + be32(crc32(body));
}

}  // namespace

TEST_CASE("shard blocks: contiguous, in order, sizes differ by at most one, earlier blocks larger") {
  for (size_t total = 0; total <= 23; ++total)
    for (size_t count = 1; count <= 12; ++count) {
      size_t next = 0;
      for (size_t index = 0; index < count; ++index) {
        const cli::Range range = cli::shard_range(total, cli::Shard{index, count});
        CHECK(range.begin == next);
        CHECK((range.size() == total / count || range.size() == total / count + 1));
        CHECK(range.size() == total / count + (index < total % count ? 1 : 0));
        next = range.end;
      }
      CHECK(next == total);
    }
  CHECK(cli::parse_shard("2/5").index == 2);
  CHECK(cli::parse_shard("2/5").count == 5);
  for (const char* bad : {"5/5", "0/0", "1", "a/b", "-1/3", "1/3/4", " 1/3", "1/3x", "", "/", "+1/3"})
    test::expect_error([&] { cli::parse_shard(bad); }, ErrorKind::Usage, "--shard '" + std::string(bad) + "'", "I/N");
}

TEST_CASE("JSON-lines journal: a torn last line is cut off, a foreign line is refused") {
  const std::string dir = test::temp_dir();
  const std::string path = dir + "/out.jsonl";
  const std::string header = cli::journal_header("test", "0/1");
  CHECK(header == "{\"perceiver_journal\":1,\"shard\":\"0/1\",\"tool\":\"test\"}\n");
  const std::string kept = header + "{\"file\":\"a\",\"top\":[]}\n{\"file\":\"b\",\"line\":2,\"x\":1}\n";
  for (const std::string& torn : {std::string("{\"file\":\"c\",\"to"), std::string("{\"file\":\"c\"}"), std::string("nonsense\n")}) {
    test::write_text(path, kept + torn);
    {
      cli::ResultOutput out("test", path, true);
      CHECK(out.contains(cli::input_key("a")));
      CHECK(out.contains(cli::input_key("b", 2)));
      CHECK_FALSE(out.contains(cli::input_key("b")));
      CHECK_FALSE(out.contains(cli::input_key("c")));
      out.write("{\"file\":\"c\"}\n");
      out.close();
    }
    CHECK(test::read_text(path) == kept + "{\"file\":\"c\"}\n");
  }
  test::write_text(path, header + "{\"file\":\"a\"}\nnot json\n{\"file\":\"b\"}\n");
  test::expect_error([&] { cli::ResultOutput out("test", path, true); }, ErrorKind::Output, path + ":3", "not a record");
  // A new journal starts with its line.
  const std::string fresh = dir + "/fresh.jsonl";
  {
    cli::ResultOutput out("test", fresh, true, "2/5");
    out.write("{\"file\":\"a\"}\n");
    out.close();
  }
  CHECK(test::read_text(fresh) == cli::journal_header("test", "2/5") + "{\"file\":\"a\"}\n");
  // Whole mode: nothing is written before close(), and no journal line.
  const std::string whole = dir + "/whole.jsonl";
  cli::ResultOutput out("test", whole, false);
  out.write("{\"file\":\"a\"}\n");
  CHECK_FALSE(fs::exists(whole));
  out.close();
  CHECK(test::read_text(whole) == "{\"file\":\"a\"}\n");
}

TEST_CASE("perceiver-classify: 110 inputs, a tenth corrupt in different ways: each reported once, the rest done, exit 10") {
  const std::string dir = test::temp_dir();
  const std::string good_png = [&] {
    write_png(dir + "/seed.png", test::random_image(24, 18, 7));
    return test::read_text(dir + "/seed.png");
  }();
  fs::remove(dir + "/seed.png");
  // Each bad input: how it is made, and what its message says.
  const std::vector<std::pair<std::string, std::string>> bad_kinds = {
      {good_png.substr(0, good_png.size() / 3), "not a readable image"},  // truncated
      {"", "not a readable image"},                                       // zero bytes
      {"this is a text file, not an image\n", "not a readable image"},   // wrong format
      {png_header(100000, 100000), "100000x100000"},                      // huge declared size
      {good_png.substr(0, 8), "not a readable image"},                    // the signature only
      {"GIF89a", "not a readable image"},                                 // a header alone
      {png_header(0, 0), "not a readable image"},                         // zero size
      {std::string(4096, '\xff'), "not a readable image"},                // random bytes
      {"", "cannot open the file"},                                       // missing (not written)
      {png_header(70000, 70000) + std::string(64, '\0'), "--max-pixels"},  // huge, with junk after
      // cut near the end (in the last rows' data: a cut after them decodes, as with Pillow)
      {good_png.substr(0, good_png.size() - 100), "not a readable image"},
  };
  std::string list;
  std::vector<std::string> bad;
  for (int i = 0; i < 110; ++i) {
    const bool is_bad = i % 10 == 9;
    const std::string path = numbered(dir, "img_", i, ".png");
    list += path + "\n";
    if (!is_bad) {
      write_png(path, test::random_image(16 + i % 7, 12 + i % 5, static_cast<uint32_t>(i)));
      continue;
    }
    const auto& [bytes, fragment] = bad_kinds[bad.size()];
    if (fragment != "cannot open the file") test::write_text(path, bytes);
    bad.push_back(path);
  }
  REQUIRE(bad.size() == 11);
  test::write_text(dir + "/list.txt", list);
  const auto r = test::run_command(classify("--format jsonl -b 4 -o " + dir + "/out.jsonl @" + dir + "/list.txt"));
  CAPTURE(r.err);
  CHECK(r.exit_code == 10);
  CHECK(count_of(r.err, ": error: ") == 11);
  for (size_t k = 0; k < bad.size(); ++k) {
    CAPTURE(bad[k]);
    CHECK(count_of(r.err, "perceiver-classify: error: " + bad[k] + ": ") == 1);
    const size_t at = r.err.find(bad[k] + ": ");
    REQUIRE(at != std::string::npos);
    CHECK(r.err.substr(at, r.err.find('\n', at) - at).find(bad_kinds[k].second) != std::string::npos);
  }
  CHECK(r.err.find("image of 100000x100000 pixels exceeds the limit of 100000000 (raise it with --max-pixels)") !=
        std::string::npos);
  CHECK(lines_of(r.err).back() == "perceiver-classify: 110 inputs: 99 done, 11 failed, 0 skipped");
  const auto records = lines_of(test::read_text(dir + "/out.jsonl"));
  REQUIRE(records.size() == 110);
  const auto paths = lines_of(list);
  for (size_t i = 0; i < records.size(); ++i) {
    const auto record = nlohmann::json::parse(records[i]);
    CHECK(record["file"] == paths[i]);
    CHECK(record.contains(i % 10 == 9 ? "error" : "top"));
  }
}

TEST_CASE("perceiver-mlm: a batch with bad inputs reports each once, does the rest, summary and exit 10") {
  const std::string dir = test::temp_dir();
  std::string args;
  std::vector<std::string> bad;
  for (int i = 0; i < 20; ++i) {
    const std::string path = numbered(dir, "doc_", i, ".txt");
    if (i == 4) bad.push_back(path);  // missing
    else if (i == 11) fs::create_directory(path), bad.push_back(path);
    else if (i == 17) test::write_text(path, std::string(300, 'x') + "[MASK]"), bad.push_back(path);  // over the limit
    else test::write_text(path, "document " + std::to_string(i) + " says [MASK:3] here");
    args += " " + path;
  }
  const auto r = test::run_command(mlm("--json --max-input-bytes 200 -o " + dir + "/out.jsonl" + args));
  CAPTURE(r.err);
  CHECK(r.exit_code == 10);
  CHECK(count_of(r.err, ": error: ") == 3);
  for (const std::string& path : bad) CHECK(count_of(r.err, "perceiver-mlm: error: " + path + ": ") == 1);
  CHECK(r.err.find(bad[2] + ": 306 bytes exceed the limit of 200 bytes (raise it with --max-input-bytes)") != std::string::npos);
  CHECK(lines_of(r.err).back() == "perceiver-mlm: 20 inputs: 17 done, 3 failed, 0 skipped");
  const auto records = lines_of(test::read_text(dir + "/out.jsonl"));
  REQUIRE(records.size() == 20);
  CHECK(nlohmann::json::parse(records[4]).contains("error"));
  CHECK(nlohmann::json::parse(records[5]).contains("masks"));
}

TEST_CASE("--shard: shards 0..N-1 concatenated equal the unsharded run (classify, mlm --lines, flow)") {
  const std::string dir = test::temp_dir();
  for (int i = 0; i < 10; ++i) write_png(numbered(dir + "", "im_", i, ".png"), test::random_image(20, 16, static_cast<uint32_t>(i + 50)));
  test::write_text(dir + "/im_004.png", "corrupt");  // a failed input is sharded like the others
  const auto whole = test::run_command(classify("--format jsonl " + dir));
  REQUIRE(whole.exit_code == 10);
  REQUIRE(lines_of(whole.out).size() == 10);
  for (size_t n : {3u, 13u}) {
    std::string joined;
    std::vector<size_t> sizes;
    for (size_t i = 0; i < n; ++i) {
      const auto part = test::run_command(classify("--format jsonl --shard " + std::to_string(i) + "/" + std::to_string(n) + " " + dir));
      CAPTURE(part.err);
      const size_t expected = 10 / n + (i < 10 % n ? 1 : 0);
      const bool has_bad = part.out.find("im_004.png") != std::string::npos;
      CHECK(part.exit_code == (has_bad ? 10 : 0));
      CHECK(part.err.find("shard " + std::to_string(i) + "/" + std::to_string(n) + ": " + std::to_string(expected) +
                          (expected == 1 ? " input: " : " inputs: ")) != std::string::npos);
      sizes.push_back(lines_of(part.out).size());
      joined += part.out;
    }
    CHECK(joined == whole.out);
    if (n == 3) CHECK(sizes == std::vector<size_t>{4, 3, 3});
    if (n == 13) CHECK(sizes == std::vector<size_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0});
  }

  // Slurm array defaults: I = ID - MIN, N = COUNT; --shard overrides them.
  const auto shard1 = test::run_command(classify("--format jsonl --shard 1/3 " + dir));
  const std::string bin = test::bin_dir() + "/perceiver-classify -q -t 1 -m " + test::golden_dir() + "/vision_conv --format jsonl ";
  auto slurm = test::run_command("env SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=3 " + bin + dir);
  CHECK(slurm.exit_code == shard1.exit_code);
  CHECK(slurm.out == shard1.out);
  // What a rerun of some tasks looks like is refused, not taken as another split of the inputs:
  // one task (--array=2), a later start (--array=2-3), a stepped or listed array (--array=1,3).
  for (const char* rerun : {"SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=2 SLURM_ARRAY_TASK_MAX=2 SLURM_ARRAY_TASK_COUNT=1",
                            "SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=0 SLURM_ARRAY_TASK_COUNT=1",
                            "SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=2 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=2",
                            "SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=2"}) {
    CAPTURE(rerun);
    slurm = test::run_command(std::string("env ") + rerun + " " + bin + dir);
    CHECK(slurm.exit_code == 2);
    CHECK(slurm.out.empty());
    CHECK(slurm.err.find("give --shard I/N") != std::string::npos);
    CHECK(test::count_lines(slurm.err) == 1);
  }
  slurm = test::run_command("env -u SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=3 " + bin + dir);
  CHECK(slurm.out == shard1.out);
  slurm = test::run_command("env SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=3 " + bin + "--shard 1/3 " + dir);
  CHECK(slurm.out == shard1.out);
  slurm = test::run_command("env SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=3 " + bin + dir);
  CHECK(slurm.exit_code == 2);
  CHECK(slurm.err.find("SLURM_ARRAY_TASK_COUNT=3") != std::string::npos);
  slurm = test::run_command("env SLURM_ARRAY_TASK_ID=x SLURM_ARRAY_TASK_COUNT=3 " + bin + dir);
  CHECK(slurm.exit_code == 2);

  // Bad values are usage errors, for every tool.
  for (const char* bad : {"3/3", "0/0", "x/2", "1", "-1/3", "1/2/3", "1/"}) {
    CAPTURE(bad);
    for (const std::string& command : {classify(dir), mlm(dir + "/a.txt"), flow("--frames " + dir + " -o " + dir + "/o"),
                                       test::kNoSlurm + test::bin_dir() + "/perceiver-autoencode -m " + test::golden_dir() +
                                           "/multimodal_full --video " + dir + " --audio x.wav"}) {
      const auto r = test::run_command(command + " --shard=" + bad);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find("--shard '" + std::string(bad) + "'") != std::string::npos);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
  }

  // perceiver-mlm --lines: the inputs are the lines of all files in order (an unreadable file is one input).
  test::write_text(dir + "/a.txt", "one [MASK] two\nthree [MASK:2]\nfour\nfive [MASK] six\n");
  test::write_text(dir + "/b.txt", "seven [MASK]\neight\nnine [MASK:3] ten\nx\ny [MASK]\nz");
  const std::string files = " --lines --json " + dir + "/a.txt " + dir + "/missing.txt " + dir + "/b.txt";
  const auto lines_whole = test::run_command(mlm(files));
  CHECK(lines_whole.exit_code == 10);
  REQUIRE(lines_of(lines_whole.out).size() == 11);
  for (size_t n : {3u, 4u, 12u}) {
    std::string joined;
    for (size_t i = 0; i < n; ++i) joined += test::run_command(mlm("--shard " + std::to_string(i) + "/" + std::to_string(n) + files)).out;
    CHECK(joined == lines_whole.out);
  }

  // perceiver-flow: the pairs are sharded; each shard writes its own pairs' files.
  const std::string frames = test::temp_dir();
  for (int i = 0; i < 5; ++i) write_png(numbered(frames, "f_", i, ".png"), test::random_image(16, 12, static_cast<uint32_t>(i)));
  std::set<std::string> all;
  for (size_t i = 0; i < 3; ++i) {
    const std::string out = frames + "/out" + std::to_string(i);
    CHECK(test::run_command(flow("--frames " + frames + " -o " + out + " --shard " + std::to_string(i) + "/3")).exit_code == 0);
    for (const auto& entry : fs::directory_iterator(out)) CHECK(all.insert(entry.path().filename().string()).second);
    CHECK(std::distance(fs::directory_iterator(out), fs::directory_iterator()) == (i < 1 ? 2 : 1));
  }
  CHECK(all == std::set<std::string>{"f_000.flo", "f_001.flo", "f_002.flo", "f_003.flo"});
}

TEST_CASE("limits: the message names the limit and the flag that raises it") {
  const std::string dir = test::temp_dir();
  write_png(dir + "/a.png", test::random_image(20, 16, 1));
  write_png(dir + "/b.png", test::random_image(20, 16, 2));
  auto r = test::run_command(classify("--max-pixels 100 " + dir + "/a.png"));
  CHECK(r.exit_code == 10);
  CHECK(r.err.find(dir + "/a.png: image of 20x16 pixels exceeds the limit of 100 (raise it with --max-pixels)") != std::string::npos);

  r = test::run_command(flow("--max-pixels 100 " + dir + "/a.png " + dir + "/b.png -o " + dir + "/x.flo"));
  CHECK(r.exit_code == 9);
  CHECK(r.err.find("--max-pixels") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/x.flo"));

  r = test::run_command(mlm("--max-input-bytes 10"), "a text of more than ten bytes [MASK]");
  CHECK(r.exit_code == 10);
  CHECK(r.err.find("-: 36 bytes exceed the limit of 10 bytes (raise it with --max-input-bytes)") != std::string::npos);
  r = test::run_command("printf 'a text of more than ten bytes' | " + mlm("--max-input-bytes 10"));  // a pipe: not sized
  CHECK(r.exit_code == 10);
  CHECK(r.err.find("-: more than 10 bytes exceed the limit of 10 bytes (raise it with --max-input-bytes)") != std::string::npos);
}

TEST_CASE("perceiver-autoencode: one clip per run, so --shard gives it to shard 0 only, and --skip-existing skips a finished clip") {
  const std::string dir = test::temp_dir();
  fs::create_directories(dir + "/frames");
  for (int i = 0; i < 2; ++i) write_png(numbered(dir + "/frames", "", i, ".png"), test::random_image(8, 8, static_cast<uint32_t>(i)));
  std::vector<float> wave(16);
  for (size_t i = 0; i < wave.size(); ++i) wave[i] = 0.1f * static_cast<float>(i % 5);
  write_audio(dir + "/audio.wav", Audio{200, wave}, AudioEncoding::Float32);
  const std::string command = test::kNoSlurm + test::bin_dir() + "/perceiver-autoencode -q -t 1 -m " + test::golden_dir() +
                              "/multimodal_full --video " + dir + "/frames --audio " + dir + "/audio.wav -o " + dir + "/out";
  auto r = test::run_command(command + " --shard 1/2");
  CHECK(r.exit_code == 0);
  CHECK(r.err == "perceiver-autoencode: shard 1/2: 0 inputs: 0 done, 0 failed, 0 skipped\n");
  CHECK_FALSE(fs::exists(dir + "/out"));
  r = test::run_command(command + " --shard 0/2 --skip-existing");
  CAPTURE(r.err);
  CHECK(r.exit_code == 0);
  const std::string summary = test::read_text(dir + "/out/summary.json");
  r = test::run_command(command + " --skip-existing");
  CHECK(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err == "perceiver-autoencode: 1 input: 0 done, 0 failed, 1 skipped\n");
  CHECK(test::read_text(dir + "/out/summary.json") == summary);
}

TEST_CASE("perceiver-mlm --json -o --skip-existing: a cut-off journal is completed to the uninterrupted output") {
  const std::string dir = test::temp_dir();
  test::write_text(dir + "/a.txt", "one [MASK] two\nthree [MASK:2]\nfour\n");
  test::write_text(dir + "/b.txt", "five [MASK] six\nseven [MASK]");
  for (const std::string& mode : {std::string(" --lines"), std::string("")}) {
    CAPTURE(mode);
    const std::string args = "--json" + mode + " " + dir + "/a.txt " + dir + "/missing.txt " + dir + "/b.txt -o ";
    REQUIRE(test::run_command(mlm(args + dir + "/whole.jsonl")).exit_code == 10);
    const std::string whole = test::read_text(dir + "/whole.jsonl");
    const auto records = lines_of(whole);
    // The journal line, the first record and a torn second one, as a killed run may leave them.
    const std::string header = cli::journal_header("perceiver-mlm", "0/1");
    test::write_text(dir + "/resumed.jsonl", header + records[0] + "\n" + records[1].substr(0, records[1].size() / 2));
    const auto r = test::run_command(mlm(args + dir + "/resumed.jsonl --skip-existing"));
    CAPTURE(r.err);
    CHECK(r.exit_code == 10);  // missing.txt fails again
    CHECK(r.err.find(" 1 skipped") != std::string::npos);
    CHECK(test::read_text(dir + "/resumed.jsonl") == header + whole);
    const auto again = test::run_command(mlm(args + dir + "/resumed.jsonl --skip-existing"));
    // The error record is there: the input is skipped, not retried, and still exit code 10.
    CHECK(again.exit_code == 10);
    CHECK(again.err.find(" 0 done, 0 failed, " + std::to_string(records.size()) +
                         " skipped (1 of them failed in an earlier run)") != std::string::npos);
    CHECK(test::read_text(dir + "/resumed.jsonl") == header + whole);
  }
  // A resumable -o needs records that name their input.
  CHECK(test::run_command(mlm(dir + "/a.txt -o " + dir + "/t.txt --skip-existing")).exit_code == 2);
  CHECK(test::run_command(classify("--format tsv -o " + dir + "/t.tsv --skip-existing " + dir + "/a.txt")).exit_code == 2);
}
