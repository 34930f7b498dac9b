// safetensors: write → read round trips, the golden files, and every kind of corrupt file being
// refused with an Error that names the file and the fault.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "checkpoint/safetensors.h"
#include "common/error.h"
#include "support/test_support.h"

namespace perceiver {
namespace {

// A tensor of `dtype` and `shape` whose bytes are 1, 2, 3, ... (mod 251), so any mix-up shows.
Tensor patterned(DType dtype, Shape shape, uint8_t seed) {
  Tensor t = Tensor::zeros(dtype, std::move(shape));
  auto* bytes = static_cast<uint8_t*>(const_cast<void*>(t.raw()));
  for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] = static_cast<uint8_t>((seed + i) % 251);
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() && (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

std::string u64_le(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

// A whole file image: length prefix, `header` padded with spaces to a multiple of 8, then `data`.
std::string file_image(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  return u64_le(header.size()) + header + data;
}

std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = test::temp_dir() + "/" + name;
  test::write_text(path, bytes);
  return path;
}

using test::expect_error;

// Writes `image` to a file and checks that reading it fails as described.
void expect_corrupt(const std::string& image, const std::string& fragment) {
  const std::string path = write_file("corrupt.safetensors", image);
  expect_error([&] { read_safetensors(path); }, ErrorKind::ModelFormat, path, fragment);
  // The in-memory parser applies the same validation.
  expect_error([&] { parse_safetensors(image.data(), image.size(), "buffer"); }, ErrorKind::ModelFormat, "buffer",
               fragment);
}

const std::string kEightBytes(8, '\x01');

}  // namespace

TEST_CASE("safetensors: every dtype, a scalar and a zero-size tensor survive write then read") {
  const std::vector<std::pair<std::string, Tensor>> tensors = {
      {"z.f32", patterned(DType::F32, {2, 3}, 1)},
      {"a.f16", patterned(DType::F16, {3}, 7)},
      {"m.bf16", patterned(DType::BF16, {2, 2}, 11)},
      {"steps", patterned(DType::I64, {}, 13)},
      {"bytes", patterned(DType::U8, {5}, 17)},
      {"empty", Tensor::zeros(DType::F32, {0, 4})},
  };
  const std::string path = test::temp_dir() + "/model.safetensors";
  write_safetensors(path, tensors);

  // Header padded so the data section starts 8-byte aligned.
  const std::string image = test::read_text(path);
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | static_cast<uint8_t>(image[i]);
  CHECK(header_length % 8 == 0);

  for (const SafetensorsFile& file : {read_safetensors(path), parse_safetensors(image.data(), image.size(), path)}) {
    CHECK(file.path == path);
    CHECK(file.metadata.empty());
    REQUIRE(file.tensors.size() == tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      INFO("tensor " << tensors[i].first);
      CHECK(file.tensors[i].first == tensors[i].first);  // the given order, not sorted
      const Tensor& read = file.tensors[i].second;
      CHECK(read.dtype() == tensors[i].second.dtype());
      CHECK(read.shape() == tensors[i].second.shape());
      CHECK(same_bytes(read, tensors[i].second));
    }
    REQUIRE(file.find("steps") != nullptr);
    CHECK(file.find("steps")->shape().empty());
    CHECK(file.find("steps")->numel() == 1);
    CHECK(file.find("empty")->numel() == 0);
    CHECK(file.find("nowhere") == nullptr);
  }
}

TEST_CASE("safetensors: views stay valid after the file object is gone, and are read-only") {
  const Tensor original = patterned(DType::F32, {4, 4}, 3);
  const std::string path = test::temp_dir() + "/one.safetensors";
  write_safetensors(path, {{"w", original}});
  Tensor kept;
  {
    const SafetensorsFile file = read_safetensors(path);
    kept = *file.find("w");
  }
  CHECK(same_bytes(kept, original));  // the mapping is held by the tensor
  CHECK_THROWS_AS(kept.mutable_data<float>(), Error);
}

TEST_CASE("safetensors: metadata round trip") {
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "tabs\tand \"quotes\""}};
  const std::string path = test::temp_dir() + "/meta.safetensors";
  write_safetensors(path, {{"x", patterned(DType::U8, {3}, 5)}}, metadata);
  const SafetensorsFile file = read_safetensors(path);
  CHECK(file.metadata == metadata);
  CHECK(file.tensors.size() == 1);

  // No tensors at all is a valid file too.
  write_safetensors(path, {}, metadata);
  CHECK(read_safetensors(path).tensors.empty());
  CHECK(read_safetensors(path).metadata == metadata);
}

TEST_CASE("safetensors: the golden MLM weights") {
  const std::string path = test::golden_dir() + "/mlm/model.safetensors";
  const SafetensorsFile file = read_safetensors(path);
  CHECK(file.tensors.size() == 73);
  CHECK(file.tensors.front().first == "embedding_decoder.bias");  // header order
  CHECK(file.metadata.at("format") == "pt");
  const Tensor* latents = file.find("perceiver.embeddings.latents");
  REQUIRE(latents != nullptr);
  CHECK(latents->dtype() == DType::F32);
  CHECK(latents->shape() == Shape{16, 48});
  CHECK(latents->data<float>()[0] == doctest::Approx(-0.018230853602290154));
  CHECK(latents->data<float>()[1] == doctest::Approx(-0.010248069651424885));
  REQUIRE(file.find("embedding_decoder.bias") != nullptr);
  CHECK(file.find("embedding_decoder.bias")->shape() == Shape{262});
}

TEST_CASE("safetensors: the golden conv weights hold an I64 scalar") {
  const SafetensorsFile file = read_safetensors(test::golden_dir() + "/vision_conv/model.safetensors");
  CHECK(file.tensors.size() == 78);
  const Tensor* steps = file.find("perceiver.input_preprocessor.convnet.batchnorm.num_batches_tracked");
  REQUIRE(steps != nullptr);
  CHECK(steps->dtype() == DType::I64);
  CHECK(steps->shape() == Shape{});
  CHECK(steps->data<int64_t>()[0] == 0);
}

TEST_CASE("safetensors: a missing file is ModelMissing, for inputs it keeps the caller's kind") {
  const std::string path = test::temp_dir() + "/absent.safetensors";
  expect_error([&] { read_safetensors(path); }, ErrorKind::ModelMissing, path, "no such file");
  expect_error([&] { read_safetensors(path, ErrorKind::Input); }, ErrorKind::Input, path, "no such file");
}

TEST_CASE("safetensors: empty and short files are truncated") {
  expect_corrupt("", "truncated");
  expect_corrupt(std::string("\x08\0\0", 3), "truncated");
}

TEST_CASE("safetensors: a file cut in the data section") {
  const std::string path = test::temp_dir() + "/whole.safetensors";
  write_safetensors(path, {{"a", patterned(DType::F32, {4}, 1)}, {"b", patterned(DType::F32, {4}, 2)}});
  const std::string image = test::read_text(path);
  expect_corrupt(image.substr(0, image.size() - 5), "'b' data_offsets [16, 32] end past the data section (27 bytes)");
}

TEST_CASE("safetensors: header length past the end of the file") {
  expect_corrupt(u64_le(1000) + "{}      ", "header length 1000 past the end of the file (16 bytes)");
  expect_corrupt(u64_le(~0ull) + "{}      ", "past the end of the file");
}

TEST_CASE("safetensors: header JSON that is broken or not an object") {
  expect_corrupt(file_image("{\"a\": nope}", ""), "header is not valid JSON");
  expect_corrupt(file_image("[1, 2]", ""), "header is JSON array, not an object");
  expect_corrupt(file_image("{\"a\": 1}", ""), "tensor 'a' is JSON number, not an object");
}

TEST_CASE("safetensors: dtypes other than F32 F16 BF16 I64 U8 are refused by name") {
  for (const char* dtype : {"F64", "I32", "BOOL"}) {
    const std::string header =
        std::string("{\"x\": {\"dtype\": \"") + dtype + "\", \"shape\": [1], \"data_offsets\": [0, 8]}}";
    expect_corrupt(file_image(header, kEightBytes), std::string("tensor 'x' has unsupported dtype '") + dtype + "'");
  }
}

TEST_CASE("safetensors: a span past the end of the data section") {
  expect_corrupt(file_image(R"({"a.weight": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}})", kEightBytes),
                 "tensor 'a.weight' data_offsets [0, 12] end past the data section (8 bytes)");
}

TEST_CASE("safetensors: overlapping spans") {
  const std::string header = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                 "b": {"dtype": "U8", "shape": [4], "data_offsets": [6, 10]}})";
  expect_corrupt(file_image(header, std::string(16, '\0')), "tensor 'a' [0, 8] and tensor 'b' [6, 10] overlap");
  // Touching spans and zero-size spans inside another tensor's bytes are fine.
  const std::string fine = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                               "b": {"dtype": "U8", "shape": [4], "data_offsets": [8, 12]},
                               "c": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})";
  const std::string image = file_image(fine, std::string(16, '\0'));
  CHECK(parse_safetensors(image.data(), image.size(), "fine").tensors.size() == 3);
}

TEST_CASE("safetensors: a byte count that does not match dtype and shape") {
  expect_corrupt(file_image(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", kEightBytes),
                 "tensor 'a' data_offsets [0, 8] holds 8 bytes, but F32 [3] needs 12");
  expect_corrupt(file_image(R"({"a": {"dtype": "I64", "shape": [], "data_offsets": [0, 4]}})", kEightBytes),
                 "I64 [] needs 8");
}

TEST_CASE("safetensors: bad shapes and offsets") {
  expect_corrupt(file_image(R"({"a": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 0]}})", ""),
                 "tensor 'a' shape entry is negative (-1)");
  expect_corrupt(file_image(R"({"a": {"dtype": "U8", "shape": [2.5], "data_offsets": [0, 0]}})", ""),
                 "shape entry is JSON number, not a non-negative integer");
  // Absurd shapes are refused without overflowing, even when a zero makes the product small.
  expect_corrupt(file_image(R"({"a": {"dtype": "U8", "shape": [1099511627776, 1099511627776, 0],
                                      "data_offsets": [0, 0]}})", ""),
                 "is too large");
  expect_corrupt(file_image(R"({"a": {"dtype": "I64", "shape": [4611686018427387904], "data_offsets": [0, 8]}})",
                            kEightBytes),
                 "needs more than 2^64");
  expect_corrupt(file_image(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [4, 3]}})", kEightBytes),
                 "begin after end");
  expect_corrupt(file_image(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0]}})", kEightBytes),
                 "is not a [begin, end] pair");
  expect_corrupt(file_image(R"({"a": {"dtype": "U8", "shape": [1]}})", kEightBytes),
                 "tensor 'a' has no \"data_offsets\"");
  expect_corrupt(file_image(R"({"a": {"dtype": 4, "shape": [1], "data_offsets": [0, 1]}})", kEightBytes),
                 "dtype is JSON number, not a string");
}

TEST_CASE("safetensors: bad metadata, duplicate names and limits") {
  expect_corrupt(file_image(R"({"__metadata__": {"format": 1}})", ""), "__metadata__ entry 'format' is JSON number");
  expect_corrupt(file_image(R"({"__metadata__": []})", ""), "__metadata__ is JSON array");
  const std::string twice = R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                                "a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}})";
  expect_corrupt(file_image(twice, kEightBytes), "header names 'a' twice");
  // A NUL inside a name would cut it short wherever it meets a C string: refused, shown escaped.
  expect_corrupt(file_image(R"({"a\u0000b": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}})", kEightBytes),
                 "tensor 'a\\x00b' has a NUL byte in its name");
  // Control characters in names are escaped so the message stays on one line.
  expect_corrupt(file_image("{\"bad\\nname\": 1}", ""), "tensor 'bad\\x0aname'");

  const std::string three = file_image(R"({"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]},
                                           "b": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]},
                                           "c": {"dtype": "U8", "shape": [1], "data_offsets": [2, 3]}})",
                                       kEightBytes);
  SafetensorsLimits limits;
  limits.max_tensors = 2;
  expect_error([&] { parse_safetensors(three.data(), three.size(), "three", ErrorKind::ModelFormat, limits); },
               ErrorKind::Limit, "three", "3 tensors, more than the limit of 2 (raise it with --max-tensors)");
  limits = SafetensorsLimits{};
  limits.max_header_bytes = 64;
  expect_error([&] { parse_safetensors(three.data(), three.size(), "three", ErrorKind::ModelFormat, limits); },
               ErrorKind::Limit, "three", "exceeds the limit of 64 bytes (raise it with --max-header-bytes)");
}

TEST_CASE("safetensors: the caller's error kind is used for every fault") {
  const std::string path = write_file("input.safetensors", file_image("[]", ""));
  expect_error([&] { read_safetensors(path, ErrorKind::Input); }, ErrorKind::Input, path, "not an object");
}

TEST_CASE("safetensors: data not aligned for its dtype is copied, with the right values") {
  // F32 at offset 1 and I64 at offset 13 of the data section: neither can be viewed in place.
  const float values[2] = {1.5f, -2.25f};
  const int64_t count = -7;
  std::string data(24, '\0');
  std::memcpy(&data[1], values, sizeof values);
  std::memcpy(&data[13], &count, sizeof count);
  const std::string image = file_image(R"({"f": {"dtype": "F32", "shape": [2], "data_offsets": [1, 9]},
                                           "n": {"dtype": "I64", "shape": [], "data_offsets": [13, 21]}})",
                                       data);
  const std::string path = write_file("unaligned.safetensors", image);
  for (const SafetensorsFile& file :
       {read_safetensors(path), parse_safetensors(image.data(), image.size(), "unaligned")}) {
    const Tensor& f = *file.find("f");
    CHECK(reinterpret_cast<uintptr_t>(f.raw()) % alignof(float) == 0);
    CHECK(f.data<float>()[0] == 1.5f);
    CHECK(f.data<float>()[1] == -2.25f);
    const Tensor& n = *file.find("n");
    CHECK(reinterpret_cast<uintptr_t>(n.raw()) % alignof(int64_t) == 0);
    CHECK(n.data<int64_t>()[0] == -7);
  }
}

TEST_CASE("safetensors: tensors parsed from a buffer own their bytes") {
  const std::string path = test::temp_dir() + "/buffer.safetensors";
  const Tensor original = patterned(DType::BF16, {3, 5}, 9);
  write_safetensors(path, {{"w", original}});
  Tensor kept;
  {
    std::string image = test::read_text(path);
    kept = parse_safetensors(image.data(), image.size(), "buffer").tensors.at(0).second;
    std::fill(image.begin(), image.end(), '\0');  // the buffer is clobbered, then freed
  }
  CHECK(same_bytes(kept, original));
}

TEST_CASE("safetensors: the writer refuses duplicate names") {
  const std::string path = test::temp_dir() + "/dup.safetensors";
  CHECK_THROWS_AS(write_safetensors(path, {{"a", Tensor::f32({1})}, {"a", Tensor::f32({1})}}), Error);
  CHECK_THROWS_AS(write_safetensors(path, {{"__metadata__", Tensor::f32({1})}}), Error);
}

}  // namespace perceiver
