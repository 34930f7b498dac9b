// pytorch_model.bin: the ZIP reader, the closed pickle machine and the tensors they yield.
// Fixtures (tests/data/bin_fixtures, made by fixtures/make_bin_fixtures.py with torch.save) check
// what real files hold; archives and pickles built here check every refusal and limit.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "checkpoint/pickle_machine.h"
#include "checkpoint/pytorch_checkpoint.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/weights.h"
#include "checkpoint/zip_archive.h"
#include "common/error.h"
#include "support/test_support.h"

namespace perceiver {
namespace {

namespace fs = std::filesystem;

std::string fixtures() { return test::data_dir() + "/bin_fixtures"; }

std::string le(uint64_t value, int bytes) {
  std::string out(static_cast<size_t>(bytes), '\0');
  for (int i = 0; i < bytes; ++i) out[static_cast<size_t>(i)] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

// ---- pickles, written opcode by opcode ----------------------------------------------------------

std::string unicode(const std::string& text) { return "X" + le(text.size(), 4) + text; }
std::string binint(int32_t n) { return "J" + le(static_cast<uint32_t>(n), 4); }
std::string long1(int64_t n) { return "\x8a\x08" + le(static_cast<uint64_t>(n), 8); }
std::string tuple(const std::vector<std::string>& items) {
  std::string out = "(";
  for (const auto& item : items) out += item;
  return out + "t";
}
const std::string kProto = "\x80\x02";
const std::string kOrderedDict = "ccollections\nOrderedDict\n)R";
const std::string kRebuild = "ctorch._utils\n_rebuild_tensor_v2\n";

struct TensorSpec {
  std::string name = "w";
  std::string key = "0";
  std::string storage = "FloatStorage";
  std::string numel = binint(4);
  std::string offset = binint(0);
  std::vector<std::string> size = {binint(4)};
  std::vector<std::string> stride = {binint(1)};
};

// The call torch.save writes for one tensor: _rebuild_tensor_v2(persistent storage, ...).
std::string tensor_call(const TensorSpec& t) {
  const std::string pid =
      tuple({unicode("storage"), "ctorch\n" + t.storage + "\n", unicode(t.key), unicode("cpu"), t.numel}) + "Q";
  return kRebuild + tuple({pid, t.offset, tuple(t.size), tuple(t.stride), "\x89", kOrderedDict}) + "R";
}

std::string state_dict(const std::vector<TensorSpec>& tensors) {
  std::string out = kProto + kOrderedDict + "(";
  for (const auto& t : tensors) out += unicode(t.name) + tensor_call(t);
  return out + "u.";
}

// ---- ZIP archives --------------------------------------------------------------------------------

struct Entry {
  std::string name;
  std::string data;
  uint16_t method = 0;
};

// A ZIP image with stored entries; `zip64` writes every size and offset through ZIP64 records.
std::string make_zip(const std::vector<Entry>& entries, bool zip64 = false) {
  std::string out, central;
  for (const Entry& e : entries) {
    const uint64_t offset = out.size();
    const uint32_t crc = crc32(e.data.data(), e.data.size());
    out += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(e.method, 2) + le(0, 4) + le(crc, 4) +
           le(e.data.size(), 4) + le(e.data.size(), 4) + le(e.name.size(), 2) + le(0, 2) + e.name + e.data;
    const std::string extra = zip64 ? le(1, 2) + le(24, 2) + le(e.data.size(), 8) + le(e.data.size(), 8) + le(offset, 8) : "";
    const uint64_t small = zip64 ? 0xffffffffu : 0;
    central += le(0x02014b50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(e.method, 2) + le(0, 4) + le(crc, 4) +
               le(zip64 ? small : e.data.size(), 4) + le(zip64 ? small : e.data.size(), 4) + le(e.name.size(), 2) +
               le(extra.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(zip64 ? small : offset, 4) +
               e.name + extra;
  }
  const uint64_t directory = out.size();
  out += central;
  if (zip64) {
    const uint64_t end64 = out.size();
    out += le(0x06064b50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4) + le(entries.size(), 8) +
           le(entries.size(), 8) + le(central.size(), 8) + le(directory, 8);
    out += le(0x07064b50, 4) + le(0, 4) + le(end64, 8) + le(1, 4);
    return out + le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(0xffff, 2) + le(0xffff, 2) + le(0xffffffff, 4) +
           le(0xffffffff, 4) + le(0, 2);
  }
  return out + le(0x06054b50, 4) + le(0, 2) + le(0, 2) + le(entries.size(), 2) + le(entries.size(), 2) +
         le(central.size(), 4) + le(directory, 4) + le(0, 2);
}

std::string four_floats() { return le(0x3f800000, 4) + le(0x40000000, 4) + le(0x40400000, 4) + le(0x40800000, 4); }

// A checkpoint archive as torch.save lays it out, with the given pickle and storages.
std::string checkpoint(const std::string& pickle, std::map<std::string, std::string> storages = {{"0", four_floats()}},
                       bool zip64 = false) {
  std::vector<Entry> entries = {{"archive/data.pkl", pickle}};
  for (const auto& [key, bytes] : storages) entries.push_back({"archive/data/" + key, bytes});
  entries.push_back({"archive/version", "3\n"});
  return make_zip(entries, zip64);
}

// ---- expectations --------------------------------------------------------------------------------

using test::expect_error;

// An in-memory image refused with `fragment`, through the parser and through a file.
void expect_refused(const std::string& image, const std::string& fragment) {
  expect_error([&] { parse_pytorch_checkpoint(image.data(), image.size(), "image"); }, ErrorKind::ModelFormat, "image",
               fragment);
  const std::string path = test::temp_dir() + "/pytorch_model.bin";
  test::write_text(path, image);
  expect_error([&] { read_pytorch_checkpoint(path); }, ErrorKind::ModelFormat, path, fragment);
}

void expect_pickle_refused(const std::string& pickle, const std::string& fragment, const PickleLimits& limits = {}) {
  expect_error(
      [&] {
        unpickle_state_dict(reinterpret_cast<const unsigned char*>(pickle.data()), pickle.size(), "file", "data.pkl",
                            limits);
      },
      ErrorKind::ModelFormat, "file", fragment);
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

// Every tensor of `actual` equals `expected`'s tensor of that name, bit for bit, in the same order.
void check_same_tensors(const std::vector<std::pair<std::string, Tensor>>& actual,
                        const std::vector<std::pair<std::string, Tensor>>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    CAPTURE(expected[i].first);
    CHECK(actual[i].first == expected[i].first);
    CHECK(same_tensor(actual[i].second, expected[i].second));
  }
}

}  // namespace

// ---- files torch.save wrote ----------------------------------------------------------------------

TEST_CASE("pytorch_model.bin: every golden model reads back bit for bit as its safetensors") {
  const auto cases = nlohmann::json::parse(test::read_text(fixtures() + "/cases.json"));
  REQUIRE(cases.size() >= 6);
  for (const auto& [golden_case, fixture] : cases.items()) {
    CAPTURE(golden_case);
    const PytorchCheckpoint bin = read_pytorch_checkpoint(fixtures() + "/" + fixture.get<std::string>() + "/pytorch_model.bin");
    const SafetensorsFile safetensors = read_safetensors(test::golden_dir() + "/" + golden_case + "/model.safetensors");
    check_same_tensors(bin.tensors, safetensors.tensors);
  }
}

TEST_CASE("pytorch_model.bin: dtypes, scalars, empty, strided and shared-storage tensors (protocols 2 and 4)") {
  for (const char* folder : {"features", "features_protocol4"}) {
    CAPTURE(folder);
    const std::string dir = fixtures() + "/" + folder;
    const PytorchCheckpoint bin = read_pytorch_checkpoint(dir + "/pytorch_model.bin");
    const SafetensorsFile expected = read_safetensors(dir + "/expected.safetensors");
    check_same_tensors(bin.tensors, expected.tensors);
    CHECK(bin.find("half")->dtype() == DType::F16);
    CHECK(bin.find("brain")->dtype() == DType::BF16);
    CHECK(bin.find("steps")->dtype() == DType::I64);
    CHECK(bin.find("steps")->shape().empty());
    CHECK(bin.find("steps")->data<int64_t>()[0] == 12345678901);
    CHECK(bin.find("empty")->shape() == Shape{0, 4});
    // Contiguous tensors are views into the mapping: two views of one storage share its bytes.
    const auto* head = static_cast<const char*>(bin.find("shared.head")->raw());
    const auto* tail = static_cast<const char*>(bin.find("shared.tail")->raw());
    CHECK(tail - head == 30 * 4);
    // An in-memory image gives the same tensors, copied.
    const std::string image = test::read_text(dir + "/pytorch_model.bin");
    check_same_tensors(parse_pytorch_checkpoint(image.data(), image.size(), "image").tensors, expected.tensors);
  }
}

TEST_CASE("pytorch_model.bin: views outlive the checkpoint object") {
  Tensor kept;
  {
    const PytorchCheckpoint bin = read_pytorch_checkpoint(fixtures() + "/features/pytorch_model.bin");
    kept = *bin.find("plain");
  }
  const SafetensorsFile expected = read_safetensors(fixtures() + "/features/expected.safetensors");
  CHECK(same_tensor(kept, *expected.find("plain")));
}

TEST_CASE("pytorch_model.bin: hostile files are refused with a clear one-line message") {
  const std::string dir = fixtures() + "/hostile";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"global_os_system.bin", "global 'os.system' is not allowed"},
      {"global_builtins_eval.bin", "global 'builtins.eval' is not allowed"},
      {"unknown_opcode.bin", "unknown pickle opcode 0xff"},
      {"opcode_inst.bin", "opcode INST (0x69 'i') is not allowed"},
      {"reduce_storage.bin", "REDUCE may only call collections.OrderedDict, torch._utils._rebuild_tensor_v2 or "
                             "torch._utils._rebuild_parameter, not torch.FloatStorage"},
      {"reduce_ordereddict_args.bin", "OrderedDict with arguments"},
      {"missing_storage.bin", "persistent id names storage '7', but the archive has no entry 'archive/data/7'"},
      {"storage_too_short.bin", "storage '0' (torch.FloatStorage, 100 elements) is longer than its entry"},
      {"extent_past_storage.bin", "reaches element 4, past the end of its storage '0' (4 elements)"},
      {"offset_past_storage.bin", "reaches element 4, past the end of its storage '0' (4 elements)"},
      {"stride_overflow.bin", "overflow"},
      {"double_storage.bin", "global 'torch.DoubleStorage' is not allowed: only float32, float16, bfloat16 and int64"},
      {"not_a_tensor.bin", "state_dict entry 'epoch' is an int, not a tensor"},
      {"truncated_pickle.bin", "truncated"},
      {"compressed_entry.bin", "is compressed (deflate); compression is unsupported"},
      {"directory_outside.bin", "central directory"},
      {"entry_outside.bin", "local header offset 2147483632 is outside"},
      {"truncated_zip.bin", "no ZIP end-of-central-directory record"},
      {"legacy_format.bin", "a legacy PyTorch file"},
  };
  for (const auto& [file, fragment] : cases) {
    CAPTURE(file);
    const std::string path = dir + "/" + file;
    expect_error([&] { read_pytorch_checkpoint(path); }, ErrorKind::ModelFormat, path, fragment);
  }
  CHECK(read_pytorch_checkpoint(dir + "/valid.bin").tensors.size() == 1);
}

TEST_CASE("pytorch_model.bin: a missing file is ModelMissing, an empty one ModelFormat") {
  const std::string dir = test::temp_dir();
  expect_error([&] { read_pytorch_checkpoint(dir + "/pytorch_model.bin"); }, ErrorKind::ModelMissing,
               dir + "/pytorch_model.bin", "no such file");
  test::write_text(dir + "/empty.bin", "");
  expect_error([&] { read_pytorch_checkpoint(dir + "/empty.bin"); }, ErrorKind::ModelFormat, dir + "/empty.bin",
               "empty file");
}

// ---- archives built here ----------------------------------------------------------------------

TEST_CASE("pytorch_model.bin: a hand-built archive, plain and in ZIP64 form") {
  const std::string pickle = state_dict({TensorSpec{}});
  for (bool zip64 : {false, true}) {
    CAPTURE(zip64);
    const std::string image = checkpoint(pickle, {{"0", four_floats()}}, zip64);
    const PytorchCheckpoint bin = parse_pytorch_checkpoint(image.data(), image.size(), "image");
    REQUIRE(bin.tensors.size() == 1);
    CHECK(bin.tensors[0].first == "w");
    CHECK(bin.tensors[0].second.shape() == Shape{4});
    CHECK(bin.tensors[0].second.data<float>()[3] == 4.0f);
  }
}

TEST_CASE("pytorch_model.bin: ZIP directory faults") {
  const std::string good = checkpoint(state_dict({TensorSpec{}}));
  SUBCASE("not a zip") { expect_refused(std::string(100, 'x'), "no ZIP end-of-central-directory record"); }
  SUBCASE("too short") { expect_refused("PK", "too short for a ZIP archive"); }
  SUBCASE("CRC mismatch in a storage") {
    std::string image = good;
    const size_t at = image.find(four_floats());
    image[at] ^= 1;
    expect_refused(image, "entry 'archive/data/0' is corrupt: CRC-32");
  }
  SUBCASE("the end record's entry count disagrees with the directory") {
    std::string image = good;
    const size_t end = image.rfind("PK\x05\x06");
    image.replace(end + 8, 4, le(2, 2) + le(2, 2));
    expect_refused(image, "central directory holds");
  }
  SUBCASE("an entry's data runs into the directory") {
    std::string image = good;
    const size_t central = image.find("PK\x01\x02");
    image.replace(central + 20, 8, le(1000, 4) + le(1000, 4));
    expect_refused(image, "runs past the entry area");
  }
  SUBCASE("two directory entries share one local header") {
    std::string image = good;
    const size_t second = image.find("PK\x01\x02", image.find("PK\x01\x02") + 4);
    const size_t first = image.find("PK\x01\x02");
    image.replace(second + 42, 4, image.substr(first + 42, 4));
    expect_refused(image, "local header names another entry");
  }
  SUBCASE("duplicate names") {
    const std::string image = make_zip({{"archive/data.pkl", "x"}, {"archive/data.pkl", "y"}});
    expect_refused(image, "names entry 'archive/data.pkl' twice");
  }
  SUBCASE("overlapping entries") {
    // The first entry's data holds a complete local header for a second entry, and the
    // directory points the second entry there: both claim the same bytes.
    const std::string inner_data = "5678";
    const std::string inner = le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) +
                              le(crc32(inner_data.data(), 4), 4) + le(4, 4) + le(4, 4) + le(3, 2) + le(0, 2) + "a/y" +
                              inner_data;
    std::string image = make_zip({{"a/x", inner}, {"a/y", inner_data}});
    const size_t second = image.find("PK\x01\x02", image.find("PK\x01\x02") + 4);
    image.replace(second + 42, 4, le(30 + 3, 4));  // the header inside a/x's data
    expect_refused(image, "entries 'a/x' and 'a/y' overlap");
  }
  SUBCASE("encrypted entry") {
    std::string image = good;
    const size_t central = image.find("PK\x01\x02");
    image.replace(central + 8, 2, le(1, 2));
    expect_refused(image, "is encrypted");
  }
  SUBCASE("ZIP64 locator pointing outside the file") {
    std::string image = checkpoint(state_dict({TensorSpec{}}), {{"0", four_floats()}}, true);
    const size_t locator = image.rfind("PK\x06\x07");
    image.replace(locator + 8, 8, le(1ull << 40, 8));
    expect_refused(image, "ZIP64 end record offset");
  }
  SUBCASE("no data.pkl") { expect_refused(make_zip({{"archive/version", "3\n"}}), "without a <folder>/data.pkl entry"); }
  SUBCASE("a TorchScript archive") {
    expect_refused(make_zip({{"m/constants.pkl", "x"}, {"m/code/m.py", "x"}}), "a TorchScript archive");
  }
  SUBCASE("a big-endian checkpoint") {
    std::vector<Entry> entries = {{"archive/data.pkl", state_dict({TensorSpec{}})},
                                  {"archive/data/0", four_floats()},
                                  {"archive/byteorder", "big"}};
    expect_refused(make_zip(entries), "'big'-endian");
  }
  SUBCASE("every truncation of a valid archive is refused, none crashes") {
    for (size_t n = 0; n < good.size(); ++n) {
      try {
        parse_pytorch_checkpoint(good.data(), n, "cut");
        FAIL("a truncated archive was accepted at " << n);
      } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::ModelFormat);
      }
    }
  }
}

TEST_CASE("pytorch_model.bin: tensor records are checked against their storage") {
  SUBCASE("a strided tensor is gathered") {
    TensorSpec t;
    t.size = {binint(2), binint(2)};
    t.stride = {binint(1), binint(2)};  // the transpose of [[1, 2], [3, 4]]
    const std::string image = checkpoint(state_dict({t}));
    const Tensor w = parse_pytorch_checkpoint(image.data(), image.size(), "image").tensors.at(0).second;
    const float* p = w.data<float>();
    CHECK(p[0] == 1.0f);
    CHECK(p[1] == 3.0f);
    CHECK(p[2] == 2.0f);
    CHECK(p[3] == 4.0f);
  }
  SUBCASE("a broadcast (stride 0) tensor repeats its element") {
    TensorSpec t;
    t.offset = binint(2);
    t.size = {binint(5)};
    t.stride = {binint(0)};
    const std::string image = checkpoint(state_dict({t}));
    const Tensor w = parse_pytorch_checkpoint(image.data(), image.size(), "image").tensors.at(0).second;
    for (int i = 0; i < 5; ++i) CHECK(w.data<float>()[i] == 3.0f);
  }
  SUBCASE("but not beyond the copy allowance") {
    TensorSpec t;
    t.size = {binint(1 << 20), binint(1 << 20)};
    t.stride = {binint(0), binint(0)};
    expect_refused(checkpoint(state_dict({t})), "would take the copied tensors past the file size");
  }
  SUBCASE("a shape whose element count overflows") {
    TensorSpec t;
    t.size = {long1(1ll << 40), long1(1ll << 40)};
    t.stride = {binint(0), binint(0)};
    expect_refused(checkpoint(state_dict({t})), "is too large");
  }
  SUBCASE("a negative size, offset or stride") {
    TensorSpec t;
    t.size = {binint(-1)};
    expect_refused(checkpoint(state_dict({t})), "size entry is negative");
    t = TensorSpec{};
    t.offset = binint(-1);
    expect_refused(checkpoint(state_dict({t})), "storage offset is negative");
    t = TensorSpec{};
    t.stride = {binint(-1)};
    expect_refused(checkpoint(state_dict({t})), "stride entry is negative");
  }
  SUBCASE("size and stride of different lengths") {
    TensorSpec t;
    t.stride = {binint(1), binint(1)};
    expect_refused(checkpoint(state_dict({t})), "size has 1 entries but stride has 2");
  }
  SUBCASE("an empty tensor may sit at the end of its storage, not past it") {
    TensorSpec t;
    t.size = {binint(0)};
    t.offset = binint(4);
    const std::string image = checkpoint(state_dict({t}));
    CHECK(parse_pytorch_checkpoint(image.data(), image.size(), "image").tensors.at(0).second.numel() == 0);
    t.offset = binint(5);
    expect_refused(checkpoint(state_dict({t})), "starts at element 5, past the end");
  }
  SUBCASE("a storage whose element count overflows its byte count") {
    TensorSpec t;
    t.numel = long1(1ll << 62);
    expect_refused(checkpoint(state_dict({t})), "is longer than its entry");
  }
  SUBCASE("one key named with two types") {
    TensorSpec a, b;
    b.name = "v";
    b.storage = "HalfStorage";
    expect_refused(checkpoint(state_dict({a, b})), "storage '0' is named twice with different types or sizes");
  }
  SUBCASE("misaligned storage data is copied with the right values") {
    // A one-byte name shift moves the storage off its 4-byte alignment inside the file.
    std::vector<Entry> entries = {{"archive/data.pkl", state_dict({TensorSpec{}})},
                                  {"archive/data/0", four_floats()}};
    for (const std::string pad : {"", "x", "xy", "xyz"}) {
      entries.insert(entries.begin(), Entry{"archive/pad" + pad, "p"});
      const std::string path = test::temp_dir() + "/pytorch_model.bin";
      test::write_text(path, make_zip(entries));
      const PytorchCheckpoint bin = read_pytorch_checkpoint(path);
      CHECK(bin.tensors.at(0).second.data<float>()[1] == 2.0f);
      entries.erase(entries.begin());
    }
  }
}

// ---- the pickle machine alone ---------------------------------------------------------------------

TEST_CASE("pickle machine: refusals name the opcode, the global or the problem") {
  expect_pickle_refused(kProto + "\x81", "opcode NEWOBJ (0x81) is not allowed");
  expect_pickle_refused(kProto + "\x93", "STACK_GLOBAL on an empty stack");
  expect_pickle_refused(kProto + unicode("os") + unicode("system") + "\x93", "global 'os.system' is not allowed");
  expect_pickle_refused(kProto + "csubprocess\nPopen\n", "global 'subprocess.Popen' is not allowed");
  expect_pickle_refused(kProto + "cos\nsys", "truncated");
  expect_pickle_refused(kProto + "h\x05", "memo key 5 was never stored");
  expect_pickle_refused(kProto + unicode("a") + "R", "REDUCE on an empty stack");
  expect_pickle_refused(kProto + unicode("a") + ")R.", "REDUCE on string 'a', which is not callable");
  expect_pickle_refused("\x80\x07", "pickle protocol 7");
  expect_pickle_refused(kProto + "N" + "N" + ".", "STOP with 2 values on the stack");
  expect_pickle_refused(kProto + "}.junk", "4 bytes after STOP");
  expect_pickle_refused(kProto + "}", "ends before STOP");
  expect_pickle_refused(kProto + "\x8a\x09" + std::string(9, '\1'), "does not fit in 64 bits");
  expect_pickle_refused(kProto + "N.", "holds a None, not a state_dict");
  expect_pickle_refused(kProto + "]N" + "b.", "BUILD on a list");
  expect_pickle_refused(kProto + "(N.", "STOP with an unclosed MARK");
  expect_pickle_refused(kProto + "u", "SETITEMS without a MARK");
  expect_pickle_refused(kProto + "}(N" + "u", "odd number of values");
  expect_pickle_refused(kProto + "N" + unicode("a") + "N" + "s", "SETITEM on a None, not a dict");
  expect_pickle_refused(kProto + "N(NNt" + "Q", "persistent id is not ('storage', type, key, location, numel)");
  expect_pickle_refused(kProto + "}" + unicode("w") + unicode("w") + "s" + unicode("w") + unicode("w") + "s.",
                        "entry 'w' is string 'w', not a tensor");
  expect_pickle_refused(kProto + "}" + "NNs.", "state_dict key is a None");
  TensorSpec t;
  expect_pickle_refused(kProto + "}" + unicode("w") + tensor_call(t) + "s" + unicode("w") + tensor_call(t) + "s.",
                        "state_dict names 'w' twice");
  expect_pickle_refused(kProto + "ctorch._utils\n_rebuild_parameter\n" + tuple({"N", "\x89", "}"}) + "R.",
                        "_rebuild_parameter of a None, not a tensor");
}

TEST_CASE("pickle machine: an OrderedDict's _metadata BUILD is ignored, the tensors kept") {
  TensorSpec t;
  const std::string pickle = kProto + kOrderedDict + unicode("w") + tensor_call(t) + "s" + "}" + unicode("_metadata") +
                             kOrderedDict + "s" + "b.";
  const PickledStateDict state =
      unpickle_state_dict(reinterpret_cast<const unsigned char*>(pickle.data()), pickle.size(), "file");
  REQUIRE(state.tensors.size() == 1);
  CHECK(state.tensors[0].name == "w");
  CHECK(state.storages.at(0).key == "0");
  CHECK(state.storages.at(0).numel == 4);
}

TEST_CASE("pickle machine: limits on the stack, the memo and the objects") {
  PickleLimits limits;
  limits.max_stack = 8;
  expect_pickle_refused(kProto + std::string(9, 'N'), "stack deeper than 8 values", limits);
  limits = PickleLimits{};
  limits.max_memo = 2;
  expect_pickle_refused(kProto + "Nq\x01q\x02q\x03", "memo larger than 2 entries", limits);
  limits = PickleLimits{};
  limits.max_objects = 100;
  std::string many = kProto + "]";
  for (int i = 0; i < 200; ++i) many += "Na";
  expect_pickle_refused(many, "more than 100 objects", limits);
  limits = PickleLimits{};
  limits.max_tensors = 1;
  TensorSpec a, b;
  b.name = "v";
  expect_error(
      [&] {
        const std::string pickle = state_dict({a, b});
        unpickle_state_dict(reinterpret_cast<const unsigned char*>(pickle.data()), pickle.size(), "file", "data.pkl",
                            limits);
      },
      ErrorKind::Limit, "file", "more than 1 tensors (raise the limit with --max-tensors)");
}

TEST_CASE("pickle machine: deep nesting and cycles neither crash nor overflow the stack") {
  // A list L, then 200,000 tuples each wrapping the previous one, then the outermost tuple
  // appended to L: a cycle 200,000 deep. A recursive destructor or printer would overflow the
  // stack here; the machine keeps values in arenas and only walks the top-level dict.
  std::string pickle = kProto + "]q\x01h\x01";
  for (int i = 0; i < 200000; ++i) pickle += "\x85";
  pickle += "a.";
  expect_pickle_refused(pickle, "the pickle holds a list, not a state_dict");
  expect_pickle_refused(kProto + "]0", "opcode POP (0x30 '0') is not allowed");
}

TEST_CASE("pickle machine and reader: random corruption of a real checkpoint only ever raises Error") {
  // A small fuzz run over the features fixture (CRC checks off so the damage reaches the pickle
  // and the tensor records): every outcome must be a clean load or an Error(ModelFormat).
  const std::string original = test::read_text(fixtures() + "/features/pytorch_model.bin");
  PytorchCheckpointLimits limits;
  limits.verify_crc = false;
  std::mt19937 random(12345);
  size_t refused = 0, loaded = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string image = original;
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) image[random() % image.size()] = static_cast<char>(random() & 0xff);
    try {
      parse_pytorch_checkpoint(image.data(), image.size(), "fuzz", limits);
      ++loaded;
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::ModelFormat);
      ++refused;
    }
  }
  MESSAGE("fuzz: " << loaded << " loaded, " << refused << " refused");
  CHECK(refused > 0);
}

// ---- folders --------------------------------------------------------------------------------------

TEST_CASE("model folders: safetensors first, then pytorch_model.bin, then the sharded .bin index") {
  const std::string dir = test::temp_dir();
  fs::copy_file(fixtures() + "/vision_conv/pytorch_model.bin", dir + "/pytorch_model.bin");
  CHECK(read_checkpoint_folder(dir).source == dir + "/pytorch_model.bin");
  fs::copy_file(test::golden_dir() + "/vision_conv/model.safetensors", dir + "/model.safetensors");
  CHECK(read_checkpoint_folder(dir).source == dir + "/model.safetensors");

  const CheckpointTensors sharded = read_checkpoint_folder(fixtures() + "/sharded");
  CHECK(sharded.source == fixtures() + "/sharded/pytorch_model.bin.index.json");
  std::map<std::string, Tensor> by_name(sharded.tensors.begin(), sharded.tensors.end());
  const SafetensorsFile reference = read_safetensors(test::golden_dir() + "/vision_conv/model.safetensors");
  REQUIRE(by_name.size() == reference.tensors.size());
  for (const auto& [name, tensor] : reference.tensors) {
    CAPTURE(name);
    REQUIRE(by_name.count(name));
    CHECK(same_tensor(by_name.at(name), tensor));
  }

  const std::string empty = test::temp_dir();
  expect_error([&] { read_checkpoint_folder(empty); }, ErrorKind::ModelMissing, empty, "no weights in the folder");
  expect_error([&] { open_model_weights(empty); }, ErrorKind::ModelMissing, empty, "no weights in the folder");
}

TEST_CASE("model folders: a sharded index whose map and shards disagree") {
  const std::string dir = test::temp_dir();
  for (const char* shard : {"pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"})
    fs::copy_file(fixtures() + "/sharded/" + shard, dir + "/" + shard);
  auto index = nlohmann::json::parse(test::read_text(fixtures() + "/sharded/pytorch_model.bin.index.json"));
  auto& map = index["weight_map"];
  const std::string first = map.begin().key();
  map[first] = "pytorch_model-00002-of-00002.bin";  // the tensor is in shard 1
  test::write_text(dir + "/pytorch_model.bin.index.json", index.dump());
  expect_error([&] { open_model_weights(dir); }, ErrorKind::ModelFormat, dir + "/pytorch_model.bin.index.json",
               "is not in its shard 'pytorch_model-00002-of-00002.bin'");
  map[first] = "../elsewhere.bin";
  test::write_text(dir + "/pytorch_model.bin.index.json", index.dump());
  expect_error([&] { open_model_weights(dir); }, ErrorKind::ModelFormat, dir + "/pytorch_model.bin.index.json",
               "is not a plain file name");
  map[first] = "missing.bin";
  test::write_text(dir + "/pytorch_model.bin.index.json", index.dump());
  expect_error([&] { open_model_weights(dir); }, ErrorKind::ModelMissing, dir + "/missing.bin", "no such file");
}

TEST_CASE("crc32 matches the standard check value") {
  const std::string text = "123456789";
  CHECK(crc32(text.data(), text.size()) == 0xcbf43926u);
  CHECK(crc32(text.data() + 4, 5, crc32(text.data(), 4)) == 0xcbf43926u);
  const std::string long_text(1000, 'a');
  uint32_t bytewise = 0;
  for (char c : long_text) bytewise = crc32(&c, 1, bytewise);
  CHECK(crc32(long_text.data(), long_text.size()) == bytewise);
}

}  // namespace perceiver
