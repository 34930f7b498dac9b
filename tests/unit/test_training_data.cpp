// Training data: the text corpus walk and split, the byte-level word-masking rule and its
// random generator, IDX files (raw and gzip, well-formed and broken) and image class folders.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/random.h"
#include "media/byte_tokenizer.h"
#include "media/image.h"
#include "media/image_processor.h"
#include "support/test_support.h"
#include "training/data/byte_masking.h"
#include "training/data/image_dataset.h"
#include "training/data/text_corpus.h"

namespace perceiver {

namespace {

namespace fs = std::filesystem;
using training::MaskedWindow;

// Masked positions (0-based in `bytes`) of a window, after checking ids and labels agree.
std::vector<size_t> masked_positions(std::string_view bytes, const MaskedWindow& window) {
  const size_t length = bytes.size() + 2;
  REQUIRE(window.input_ids.size() == length);
  REQUIRE(window.labels.size() == length);
  CHECK(window.input_ids.front() == tokenizer::kCls);
  CHECK(window.input_ids.back() == tokenizer::kSep);
  CHECK(window.labels.front() == -1);
  CHECK(window.labels.back() == -1);
  std::vector<size_t> masked;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const int64_t id = static_cast<unsigned char>(bytes[i]) + tokenizer::kByteOffset;
    if (window.labels[i + 1] == -1) {
      CHECK(window.input_ids[i + 1] == id);
    } else {
      CHECK(window.labels[i + 1] == id);
      CHECK(window.input_ids[i + 1] == tokenizer::kMask);
      masked.push_back(i);
    }
  }
  return masked;
}

bool is_space(char c) { return training::is_mask_whitespace(static_cast<unsigned char>(c)); }

// Masked bytes are whole words (byte_masking.h, step 2): no whitespace is masked, and every
// maximal run of word bytes is masked entirely or not at all (punctuation bytes are words alone).
bool masked_runs_are_whole_words(std::string_view bytes, const std::vector<size_t>& masked) {
  std::vector<bool> is_masked(bytes.size(), false);
  for (const size_t i : masked) is_masked[i] = true;
  for (size_t i = 0; i < bytes.size();) {
    if (is_space(bytes[i]) && is_masked[i]) return false;
    if (!training::is_word_byte(static_cast<unsigned char>(bytes[i]))) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < bytes.size() && training::is_word_byte(static_cast<unsigned char>(bytes[i]))) ++i;
    for (size_t k = start; k < i; ++k)
      if (is_masked[k] != is_masked[start]) return false;
  }
  return true;
}

const std::string kProse =
    "Perceiver IO maps arbitrary inputs to arbitrary outputs through a small latent array.\n"
    "Cross-attention reads the inputs into the latents, a deep stack of self-attention\n"
    "layers processes them, and a final cross-attention decodes queries for every output.\t"
    "Its cost grows linearly with the size of the inputs and outputs, not quadratically.";

// ---- IDX helpers -------------------------------------------------------------------------------

void put_be32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xFF));
}

std::string idx_images(uint32_t count, uint32_t rows, uint32_t cols, const std::string& pixels) {
  std::string out;
  put_be32(out, 0x00000803);
  put_be32(out, count);
  put_be32(out, rows);
  put_be32(out, cols);
  return out + pixels;
}

std::string idx_labels(const std::vector<uint8_t>& labels) {
  std::string out;
  put_be32(out, 0x00000801);
  put_be32(out, static_cast<uint32_t>(labels.size()));
  for (const uint8_t label : labels) out.push_back(static_cast<char>(label));
  return out;
}

void gzip_file(const std::string& from, const std::string& to) {
  REQUIRE(std::system(("gzip -c '" + from + "' > '" + to + "'").c_str()) == 0);
}

void check_same_dataset(const training::ImageDataset& a, const training::ImageDataset& b) {
  CHECK(a.height == b.height);
  CHECK(a.width == b.width);
  CHECK(a.labels == b.labels);
  CHECK(a.class_names == b.class_names);
  REQUIRE(a.images.size() == b.images.size());
  for (size_t i = 0; i < a.images.size(); ++i) CHECK(a.images[i].rgb == b.images[i].rgb);
}

}  // namespace

// ---- random ------------------------------------------------------------------------------------

TEST_CASE("training data: SplitMix64 matches the reference outputs for seed 0") {
  SplitMix64 random(0);
  CHECK(random.next() == 0xe220a8397b1dcdafULL);
  CHECK(random.next() == 0x6e789e6aa1b965f4ULL);
  CHECK(random.next() == 0x06c45d188009454fULL);
  CHECK(random.next() == 0xf88bb8a8724c81ecULL);
}

TEST_CASE("training data: SplitMix64 uniform, below and mix_seed") {
  SplitMix64 a(0);
  // uniform() is the first output's top 53 bits scaled by 2^-53.
  CHECK(a.uniform() == static_cast<double>(0xe220a8397b1dcdafULL >> 11) / 9007199254740992.0);
  SplitMix64 random(123);
  std::vector<int64_t> histogram(7, 0);  // [6] counts out-of-range draws
  int64_t outside_unit = 0;
  for (int i = 0; i < 60000; ++i) {
    const double u = random.uniform();
    outside_unit += !(u >= 0.0 && u < 1.0);
    ++histogram[std::min<uint64_t>(random.below(6), 6)];
  }
  CHECK(outside_unit == 0);
  CHECK(histogram[6] == 0);
  histogram.pop_back();
  for (const int64_t count : histogram) CHECK((count > 9500 && count < 10500));
  CHECK(random.below(1) == 0);
  CHECK(random.below(0) == 0);

  CHECK(mix_seed(1, 2) == mix_seed(1, 2));
  CHECK(mix_seed(1, 2) != mix_seed(2, 1));
  CHECK(mix_seed(1, 2) != mix_seed(1, 3));
  CHECK(mix_seed(0, 0) == SplitMix64(SplitMix64(0).next()).next());
}

// ---- masking -----------------------------------------------------------------------------------

TEST_CASE("training data: mask_window masks exactly the target when the words fit") {
  std::string letters;  // 40 one-letter words: any target is reachable with whole words
  for (int i = 0; i < 40; ++i) letters += std::string(i ? " " : "") + static_cast<char>('a' + i % 26);
  REQUIRE(letters.size() == 79);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto masked = masked_positions(letters, training::mask_window(letters, seed));
    CHECK(masked.size() == 12);  // round(0.15 * 79) = round(11.85)
    CHECK(masked_runs_are_whole_words(letters, masked));
  }
  const auto half = masked_positions(letters, training::mask_window(letters, 5, 0.5));
  CHECK(half.size() == 40);  // round(39.5) rounds away from zero
  const auto all = masked_positions(letters, training::mask_window(letters, 5, 1.0));
  CHECK(all.size() == 40);  // every word; 2 * 40 >= 79, so no fallback onto the spaces
}

TEST_CASE("training data: mask_window masks whole words of prose, between half the target and the target") {
  const size_t target = static_cast<size_t>(std::llround(0.15 * static_cast<double>(kProse.size())));
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const auto masked = masked_positions(kProse, training::mask_window(kProse, seed));
    CHECK(masked.size() <= target);
    CHECK(2 * masked.size() >= target);
    CHECK(masked_runs_are_whole_words(kProse, masked));
  }
}

TEST_CASE("training data: mask_window is deterministic for a seed and differs between seeds") {
  const MaskedWindow first = training::mask_window(kProse, 2024);
  const MaskedWindow again = training::mask_window(kProse, 2024);
  CHECK(first.input_ids == again.input_ids);
  CHECK(first.labels == again.labels);
  int differing = 0;
  for (uint64_t seed = 2025; seed < 2035; ++seed) differing += training::mask_window(kProse, seed).labels != first.labels;
  CHECK(differing == 10);

  // Known answers, computed independently from the rule in byte_masking.h: they pin the shuffle,
  // below() and the visiting order, so a change in any of them shows up here.
  const std::string sentence = "the cat sat on the mat and the dog ate a bone";
  CHECK(masked_positions(sentence, training::mask_window(sentence, 42, 0.25)) ==
        std::vector<size_t>{23, 24, 25, 27, 28, 29, 35, 36, 37, 39});  // "and", "the", "ate", "a"
  const std::string run = "abcdefghijklmnopqrst";
  CHECK(masked_positions(run, training::mask_window(run, 7)) == std::vector<size_t>{2, 7, 15});
}

TEST_CASE("training data: mask_window falls back to single bytes without usable word boundaries") {
  const std::string run = "abcdefghij";  // no whitespace: one word longer than the target
  const auto masked = masked_positions(run, training::mask_window(run, 3));
  CHECK(masked.size() == 2);  // round(1.5) = 2

  // One huge word and one short one: the short word alone is under half the target.
  const std::string huge = std::string(200, 'x') + " ab";
  const auto huge_masked = masked_positions(huge, training::mask_window(huge, 9));
  CHECK(huge_masked.size() == 30);  // round(0.15 * 203) = round(30.45)
  for (const size_t i : huge_masked) CHECK(i != 200);  // the space is left alone

  // Only whitespace left: the fallback takes it.
  const std::string spaces = std::string(10, ' ') + "a";
  const auto space_masked = masked_positions(spaces, training::mask_window(spaces, 1, 0.5));
  CHECK(space_masked.size() == 6);  // round(5.5): "a" and then five spaces
  CHECK(space_masked.back() == 10);

  // Tiny targets: at least one byte of a non-empty window.
  const auto one = masked_positions("ab", training::mask_window("ab", 0));
  CHECK(one.size() == 1);
  const MaskedWindow empty = training::mask_window("", 0);
  CHECK(empty.input_ids == std::vector<int64_t>{tokenizer::kCls, tokenizer::kSep});
  CHECK(empty.labels == std::vector<int64_t>{-1, -1});

  test::expect_error([] { training::mask_window("abc", 0, 0.0); }, ErrorKind::Usage, "mask_window", "fraction");
  test::expect_error([] { training::mask_window("abc", 0, 1.5); }, ErrorKind::Usage, "mask_window", "fraction");
}

// ---- text corpus -------------------------------------------------------------------------------

TEST_CASE("training data: corpus UTF-8 validation") {
  CHECK(training::is_valid_utf8("plain ASCII"));
  CHECK(training::is_valid_utf8("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e"));
  CHECK_FALSE(training::is_valid_utf8("caf\xe9"));              // Latin-1
  CHECK_FALSE(training::is_valid_utf8("\xc0\xaf"));             // overlong '/'
  CHECK_FALSE(training::is_valid_utf8("\xed\xa0\x80"));         // surrogate
  CHECK_FALSE(training::is_valid_utf8("\xf4\x90\x80\x80"));     // above U+10FFFF
  CHECK_FALSE(training::is_valid_utf8("\xe2\x9c"));             // truncated
  CHECK_FALSE(training::is_valid_utf8("\x80"));                 // lone continuation byte
}

TEST_CASE("training data: corpus walks a folder in path order and holds out one file in N") {
  const std::string root = test::temp_dir() + "/corpus";
  fs::create_directories(root + "/sub");
  char name[64];
  for (int i = 0; i < 23; ++i) {  // 23 text files, "document NN\n" (12 bytes) each
    std::snprintf(name, sizeof name, "%s/doc_%02d.txt", i < 10 ? "" : "/sub", i);
    char text[32];
    std::snprintf(text, sizeof text, "document %02d\n", i);
    test::write_text(root + name, text);
  }
  test::write_text(root + "/empty.txt", "");
  test::write_text(root + "/latin1.txt", "caf\xe9\n");
  test::write_text(root + "/nul.bin", std::string("a\0b", 3));

  const training::TextCorpus corpus = training::load_text_corpus(root);
  CHECK(corpus.skipped_files == 3);
  REQUIRE(corpus.train_paths.size() == 22);
  REQUIRE(corpus.held_out_paths.size() == 1);
  CHECK(corpus.held_out_paths[0] == root + "/sub/doc_19.txt");  // the 20th kept file
  CHECK(corpus.train_paths.front() == root + "/doc_00.txt");
  CHECK(corpus.train_paths.back() == root + "/sub/doc_22.txt");
  CHECK(corpus.train.size() == 22 * 14);
  CHECK(corpus.held_out == "document 19\n\n\n");
  CHECK(corpus.train.substr(0, 28) == "document 00\n\n\ndocument 01\n\n\n");
  CHECK(corpus.describe() == "22 train files (308 bytes), 1 held-out files (14 bytes)");

  const training::TextCorpus fifths = training::load_text_corpus(root, 5);
  CHECK(fifths.train_paths.size() == 19);
  CHECK(fifths.held_out_paths.size() == 4);  // kept files 4, 9, 14, 19
  CHECK(fifths.held_out_paths[1] == root + "/doc_09.txt");

  // max_bytes: files are added while the total is under it (98 < 100 after seven, so eight).
  const training::TextCorpus capped = training::load_text_corpus(root, 5, 100);
  CHECK(capped.train_paths.size() == 7);
  CHECK(capped.held_out_paths.size() == 1);
  CHECK(capped.train.size() + capped.held_out.size() == 112);

  test::expect_error([&] { training::load_text_corpus(root, 20, 50); }, ErrorKind::Input, root,
                     "no held-out file (needs at least 20 files)");
  test::expect_error([&] { training::load_text_corpus(root + "/doc_00.txt"); }, ErrorKind::Input,
                     root + "/doc_00.txt", "not a folder");
  test::expect_error([&] { training::load_text_corpus(root, 1); }, ErrorKind::Usage, "load_text_corpus",
                     "held_out_every");

  const std::string no_text = test::temp_dir() + "/no_text";
  fs::create_directories(no_text);
  test::write_text(no_text + "/empty.txt", "");
  test::write_text(no_text + "/binary.dat", "\xff\xfe\x00\x01");
  test::expect_error([&] { training::load_text_corpus(no_text); }, ErrorKind::Input, no_text, "no UTF-8 text files");
}

// ---- IDX ---------------------------------------------------------------------------------------

TEST_CASE("training data: idx files load the same raw and gzip-compressed") {
  const std::string dir = test::temp_dir();
  std::string pixels;  // 4 images of 2 × 3: pixel value = 10 * image + position
  for (int image = 0; image < 4; ++image)
    for (int p = 0; p < 6; ++p) pixels.push_back(static_cast<char>(10 * image + p));
  test::write_text(dir + "/images-idx3-ubyte", idx_images(4, 2, 3, pixels));
  test::write_text(dir + "/labels-idx1-ubyte", idx_labels({3, 0, 7, 3}));

  const training::ImageDataset raw = training::load_idx(dir + "/images-idx3-ubyte", dir + "/labels-idx1-ubyte");
  CHECK(raw.height == 2);
  CHECK(raw.width == 3);
  CHECK(raw.labels == std::vector<int64_t>{3, 0, 7, 3});
  CHECK(raw.class_names == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7"});
  CHECK(raw.skipped.empty());
  REQUIRE(raw.images.size() == 4);
  CHECK(raw.images[2].width == 3);
  CHECK(raw.images[2].height == 2);
  CHECK(raw.images[2].rgb == std::vector<uint8_t>{20, 20, 20, 21, 21, 21, 22, 22, 22, 23, 23, 23, 24, 24, 24, 25, 25, 25});

  // gzip -c from a file stores its name (FNAME); from a pipe it does not: both header forms.
  gzip_file(dir + "/images-idx3-ubyte", dir + "/images-idx3-ubyte.gz");
  REQUIRE(std::system(("gzip -c < '" + dir + "/labels-idx1-ubyte' > '" + dir + "/labels.gz'").c_str()) == 0);
  check_same_dataset(raw, training::load_idx(dir + "/images-idx3-ubyte.gz", dir + "/labels.gz"));
  check_same_dataset(raw, training::load_idx(dir + "/images-idx3-ubyte", dir + "/labels.gz"));

  const training::ImageDataset first_two = training::load_idx(dir + "/images-idx3-ubyte.gz", dir + "/labels.gz", 2);
  CHECK(first_two.labels == std::vector<int64_t>{3, 0});
  CHECK(first_two.class_names.size() == 4);
  REQUIRE(first_two.images.size() == 2);
  CHECK(first_two.images[1].rgb == raw.images[1].rgb);
}

TEST_CASE("training data: malformed idx files are errors naming the path") {
  const std::string dir = test::temp_dir();
  std::string pixels(4 * 6, '\x01');
  const std::string images = dir + "/good-images", labels = dir + "/good-labels";
  test::write_text(images, idx_images(4, 2, 3, pixels));
  test::write_text(labels, idx_labels({1, 2, 3, 4}));

  const std::string short_file = dir + "/short";
  test::write_text(short_file, std::string("\x00\x00\x08", 3));
  test::expect_error([&] { training::load_idx(short_file, labels); }, ErrorKind::Input, short_file, "too short");

  test::expect_error([&] { training::load_idx(labels, labels); }, ErrorKind::Input, labels, "not an IDX image file");

  const std::string three_labels = dir + "/three-labels";
  test::write_text(three_labels, idx_labels({1, 2, 3}));
  test::expect_error([&] { training::load_idx(images, three_labels); }, ErrorKind::Input, three_labels,
                     "3 labels, but " + images + " has 4 images");

  const std::string truncated = dir + "/truncated-images";
  test::write_text(truncated, idx_images(5, 2, 3, pixels));
  test::expect_error([&] { training::load_idx(truncated, labels); }, ErrorKind::Input, truncated,
                     "need 30 bytes of data, the file has 24");

  const std::string absurd = dir + "/absurd-images";  // 2^96 bytes announced: refused before allocating
  test::write_text(absurd, idx_images(0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, pixels));
  test::expect_error([&] { training::load_idx(absurd, labels); }, ErrorKind::Input, absurd, "need more than 2^64 bytes of data");

  // gzip damage: a cut-off stream and a trailer whose ISIZE disagrees with the data.
  gzip_file(images, images + ".gz");
  const std::string gz = test::read_text(images + ".gz");
  const std::string cut = dir + "/cut.gz";
  test::write_text(cut, gz.substr(0, gz.size() - 12));
  test::expect_error([&] { training::load_idx(cut, labels); }, ErrorKind::Input, cut, "bad gzip data");
  std::string wrong_size = gz;
  wrong_size[wrong_size.size() - 4] = static_cast<char>(wrong_size[wrong_size.size() - 4] + 1);
  const std::string lying = dir + "/lying.gz";
  test::write_text(lying, wrong_size);
  test::expect_error([&] { training::load_idx(lying, labels); }, ErrorKind::Input, lying, "ISIZE");
  std::string flipped = gz;
  flipped[flipped.size() - 8] = static_cast<char>(flipped[flipped.size() - 8] ^ 0x55);
  const std::string bad_crc = dir + "/crc.gz";
  test::write_text(bad_crc, flipped);
  test::expect_error([&] { training::load_idx(bad_crc, labels); }, ErrorKind::Input, bad_crc, "CRC-32");

  test::expect_error([&] { training::load_idx(dir + "/missing", labels); }, ErrorKind::Input, dir + "/missing",
                     "cannot open");
}

// ---- image folders -----------------------------------------------------------------------------

TEST_CASE("training data: image folder classes, a corrupt file in skipped, pixel_batch as the processor") {
  const std::string root = test::temp_dir() + "/pictures";
  fs::create_directories(root + "/cat");
  fs::create_directories(root + "/dog");
  const Image a = test::random_image(4, 3, 1), b = test::random_image(4, 3, 2), c = test::random_image(4, 3, 3);
  write_png(root + "/cat/a.png", a);
  write_png(root + "/cat/b.png", b);
  write_png(root + "/dog/c.png", c);
  test::write_text(root + "/dog/broken.png", "this is not a PNG");
  test::write_text(root + "/README.txt", "files beside the class folders are ignored");

  const training::ImageDataset data = training::load_image_folder(root);
  CHECK(data.class_names == std::vector<std::string>{"cat", "dog"});
  CHECK(data.labels == std::vector<int64_t>{0, 0, 1});
  CHECK(data.height == 3);
  CHECK(data.width == 4);
  REQUIRE(data.images.size() == 3);
  CHECK(data.images[0].rgb == a.rgb);
  CHECK(data.images[1].rgb == b.rgb);
  CHECK(data.images[2].rgb == c.rgb);
  REQUIRE(data.skipped.size() == 1);
  CHECK(data.skipped[0].rfind(root + "/dog/broken.png: ", 0) == 0);

  ImageProcessorConfig config;
  config.do_center_crop = false;
  config.size = 4;
  const Tensor batch = training::pixel_batch(data, {2, 0}, config);
  CHECK(batch.shape() == Shape{2, 3, 4, 4});
  CHECK(test::max_abs_diff(batch, preprocess_images({c, a}, config)) == 0.0);
  test::expect_error([&] { training::pixel_batch(data, {3}, config); }, ErrorKind::Internal, "pixel_batch", "outside");

  write_png(root + "/dog/d.png", test::random_image(5, 5, 4));
  const training::ImageDataset mixed = training::load_image_folder(root);
  CHECK(mixed.images.size() == 4);
  CHECK(mixed.height == 0);
  CHECK(mixed.width == 0);

  const std::string flat = test::temp_dir() + "/flat";
  fs::create_directories(flat);
  write_png(flat + "/a.png", a);
  test::expect_error([&] { training::load_image_folder(flat); }, ErrorKind::Input, flat, "no class folders");
  fs::create_directories(flat + "/only");
  test::write_text(flat + "/only/x.png", "garbage");
  test::expect_error([&] { training::load_image_folder(flat); }, ErrorKind::Input, flat, "no readable image");
}

}  // namespace perceiver
