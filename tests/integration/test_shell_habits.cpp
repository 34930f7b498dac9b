// Habits of good command-line tools: one-line usage errors that name the flag or variable (with a
// "did you mean"), warnings where input is silently not what the user meant, unambiguous text
// output for odd file names.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/progress.h"
#include "media/image.h"
#include "support/test_support.h"

using namespace perceiver;
namespace fs = std::filesystem;

namespace {


}  // namespace

TEST_CASE("usage errors are one line naming the flag or the variable, with a did-you-mean, exit 2") {
  const std::vector<std::pair<std::string, std::string>> typos = {
      {"perceiver-mlm", "--jsn"},          {"perceiver-classify", "--formt jsonl"}, {"perceiver-flow", "--colr x"},
      {"perceiver-autoencode", "--vidoe x"}, {"perceiver-run", "--precisio f32 -m x -i y -o z"},
      {"perceiver-convert", "--dtyp f16 -m x -o y"}};
  const std::map<std::string, std::string> meant = {{"--jsn", "--json"},     {"--formt", "--format"},
                                                    {"--colr", "--color"},   {"--vidoe", "--video"},
                                                    {"--precisio", "--precision"}, {"--dtyp", "--dtype"}};
  for (const auto& [tool, args] : typos) {
    CAPTURE(tool);
    const test::CommandResult r = test::run_command(test::bin_dir() + "/" + tool + " " + args);
    CHECK(r.exit_code == 2);
    CHECK(test::count_lines(r.err) == 1);
    CHECK(r.err.rfind(tool + ": error: unknown argument", 0) == 0);
    const std::string typo = args.substr(0, args.find(' '));
    CHECK(r.err.find(typo + ": did you mean " + meant.at(typo) + "?") != std::string::npos);
  }
  // A range check names the rule, not the largest double.
  test::CommandResult r = test::run_command(test::bin_dir() + "/perceiver-mlm --top-k -1 x");
  CHECK(r.exit_code == 2);
  CHECK(r.err == "perceiver-mlm: error: --top-k: -1 is not allowed (a number of 0 or more) (see perceiver-mlm --help)\n");
  // A value from the environment is blamed on the variable.
  r = test::run_command("PERCEIVER_THREADS=abc " + test::bin_dir() + "/perceiver-mlm x");
  CHECK(r.exit_code == 2);
  CHECK(r.err.rfind("perceiver-mlm: error: PERCEIVER_THREADS=abc (the environment's value of --threads)", 0) == 0);
  CHECK(test::count_lines(r.err) == 1);
}

TEST_CASE("perceiver-mlm warns about text that looks like a mask but is not one, and about -k without --json") {
  const std::string mlm = test::kNoSlurm + test::bin_dir() + "/perceiver-mlm -q -t 1 -m " + test::golden_dir() + "/mlm";
  const test::CommandResult r = test::run_command(mlm + " --lines -k 3", "a [mask] b\nc [MASK:0] d [MASK:abc]\ne [MASK:3] f\n");
  CHECK(r.exit_code == 0);
  CHECK(test::count_lines(r.out) == 3);
  CHECK(r.err.find("perceiver-mlm: warning: -k/--top-k only changes --json output") != std::string::npos);
  CHECK(r.err.find("-:1: [mask] looks like a mask but is read as text") != std::string::npos);
  CHECK(r.err.find("-:2: [MASK:0] looks like a mask but is read as text") != std::string::npos);
  CHECK(r.err.find("[MASK:abc]") == std::string::npos);  // once per document
  CHECK(r.err.find("-:3:") == std::string::npos);        // [MASK:3] is a mask
  const test::CommandResult quiet = test::run_command(mlm + " --json", "The [MASK] is fine.");
  CHECK(quiet.err.empty());
}

TEST_CASE("text and TSV output escape a tab, newline or backslash in a file name, so each name is one field") {
  const std::string dir = test::temp_dir();
  for (const std::string name : {"a\tb.png", "a b.png", "new\nline.png", "back\\slash.png"})
    write_png(dir + "/" + name, test::random_image(12, 10, static_cast<uint32_t>(name.size())));
  const std::string classify = test::kNoSlurm + test::bin_dir() + "/perceiver-classify -q -t 1 -k 1 -m " + test::golden_dir() + "/vision_conv ";
  const test::CommandResult tsv = test::run_command(classify + "-f tsv " + dir);
  REQUIRE(tsv.exit_code == 0);
  CHECK(test::count_lines(tsv.out) == 5);  // the header and one row per image
  CHECK(tsv.out.find(dir + "/a\\tb.png\t1\t") != std::string::npos);
  CHECK(tsv.out.find(dir + "/a b.png\t1\t") != std::string::npos);
  CHECK(tsv.out.find(dir + "/new\\nline.png\t1\t") != std::string::npos);
  CHECK(tsv.out.find(dir + "/back\\\\slash.png\t1\t") != std::string::npos);
  const test::CommandResult text = test::run_command(classify + dir);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find(dir + "/new\\nline.png\n") != std::string::npos);
}

TEST_CASE("perceiver-classify -0 reads NUL-separated lists, and a journal recognises names that are not UTF-8") {
  const std::string dir = test::temp_dir();
  const std::string odd = dir + "/caf\xe9\nnew.png";  // Latin-1 é and a newline: any byte but NUL and '/'
  write_png(odd, test::random_image(12, 10, 1));
  write_png(dir + "/b.png", test::random_image(12, 10, 2));
  const std::string classify = test::kNoSlurm + test::bin_dir() + "/perceiver-classify -q -t 1 -k 1 -m " + test::golden_dir() + "/vision_conv ";
  test::write_text(dir + "/list", odd + std::string(1, '\0') + dir + "/b.png" + std::string(1, '\0'));
  const test::CommandResult listed = test::run_command(classify + "-0 -f jsonl - < " + dir + "/list");
  CHECK(listed.exit_code == 0);
  CHECK(test::count_lines(listed.out) == 2);
  // In a NUL-separated list every entry is a path: "#c.png" and "@d.png" are files, not a
  // comment and a list.
  const std::string names = dir + "/names";
  fs::create_directory(names);
  write_png(names + "/#c.png", test::random_image(12, 10, 3));
  write_png(names + "/@d.png", test::random_image(12, 10, 4));
  test::write_text(dir + "/relative", std::string("#c.png") + '\0' + "@d.png" + '\0');
  const test::CommandResult relative = test::run_command("cd " + names + " && " + classify + "-0 -f jsonl - < " + dir + "/relative");
  CHECK(relative.exit_code == 0);
  CHECK(test::count_lines(relative.out) == 2);
  CHECK(relative.out.find("{\"file\":\"#c.png\"") == 0);
  CHECK(relative.out.find("{\"file\":\"@d.png\"") != std::string::npos);
  // The journal: the name shown with U+FFFD, its bytes in file_bytes; a rerun skips it.
  const std::string journal = dir + "/out.jsonl";
  const test::CommandResult first = test::run_command(classify + "-f jsonl --skip-existing -o " + journal + " " + dir);
  CHECK(first.exit_code == 0);
  const std::string text = test::read_text(journal);
  CHECK(text.find("\"file_bytes\":\"") != std::string::npos);
  CHECK(text.find("\\ufffd") == std::string::npos);  // nlohmann writes U+FFFD as UTF-8, not escaped
  const test::CommandResult again = test::run_command(classify + "-f jsonl --skip-existing -o " + journal + " " + dir);
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("0 done, 0 failed, 2 skipped") != std::string::npos);
  CHECK(test::read_text(journal) == text);
}

TEST_CASE("progress: nothing for short work, then done/total, percentage, rate and ETA, plain lines into a file") {
  const std::string log = test::temp_dir() + "/stderr";
  const int saved = ::dup(2);
  const int file = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(file >= 0);
  ::dup2(file, 2);
  {
    cli::Progress quiet_for_now("tool", 10, false, "tiles");  // the default: quiet for 2 s
    quiet_for_now.advance(3);
    cli::Progress known("tool", 10, false, "tiles", std::chrono::milliseconds(0));
    known.advance(3);
    cli::Progress unknown("tool", 0, false, "lines", std::chrono::milliseconds(0));
    unknown.advance(5);
    cli::Progress silenced("tool", 10, true, "tiles", std::chrono::milliseconds(0));
    silenced.advance(3);
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(file);
  ::close(saved);
  const std::string text = test::read_text(log);
  CAPTURE(text);
  CHECK(test::count_lines(text) == 2);
  CHECK(text.rfind("tool: 3/10 tiles (30%), ", 0) == 0);
  CHECK(text.find("/s, ETA 0:") != std::string::npos);
  CHECK(text.find("tool: 5 lines done, ") != std::string::npos);
}

TEST_CASE("outputs are checked before any work, and the shared options are everywhere") {
  const std::string dir = test::temp_dir();
  for (int i = 0; i < 40; ++i) write_png(dir + "/" + std::to_string(i) + ".png", test::random_image(64, 64, static_cast<uint32_t>(i)));
  const auto check = [&](const std::string& command, const std::string& output) {
    CAPTURE(command);
    const test::CommandResult r = test::run_command(command, "a [MASK] b");
    CHECK(r.exit_code == 8);
    CHECK(r.err.find(output + ": cannot") != std::string::npos);
    CHECK(test::count_lines(r.err) == 1);
  };
  check(test::bin_dir() + "/perceiver-classify -q -t 1 -m " + test::golden_dir() + "/vision_conv -f tsv -o " + dir +
            "/nodir/x.tsv " + dir,
        dir + "/nodir/x.tsv");
  check(test::bin_dir() + "/perceiver-mlm -q -t 1 -m " + test::golden_dir() + "/mlm -o " + dir + "/nodir/x.txt", dir + "/nodir/x.txt");
  check(test::bin_dir() + "/perceiver-flow -q -t 1 -m " + test::golden_dir() + "/flow " + dir + "/0.png " + dir + "/1.png -o " +
            dir + "/nodir/x.flo",
        dir + "/nodir/x.flo");
  // perceiver-convert takes the shared weights-file limits (and -t, --precision) like every tool.
  const test::CommandResult convert = test::run_command(test::bin_dir() + "/perceiver-convert -t 1 --precision f32 --max-tensors 2 -m " +
                                                        test::golden_dir() + "/mlm -o " + dir + "/converted");
  CHECK(convert.exit_code == 9);
  CHECK(convert.err.find("--max-tensors") != std::string::npos);
}

TEST_CASE("perceiver-mlm text output: one document byte for byte, several files each ending with a newline") {
  const std::string dir = test::temp_dir();
  test::write_text(dir + "/a.txt", "first");
  test::write_text(dir + "/b.txt", "second\n");
  const std::string mlm = test::kNoSlurm + test::bin_dir() + "/perceiver-mlm -q -t 1 -m " + test::golden_dir() + "/mlm ";
  CHECK(test::run_command(mlm + dir + "/a.txt").out == "first");
  CHECK(test::run_command(mlm + dir + "/a.txt " + dir + "/b.txt").out == "first\nsecond\n");
}
