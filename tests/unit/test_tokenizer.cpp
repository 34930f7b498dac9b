// Byte tokenizer: golden encode / pad / decode cases from HF's PerceiverTokenizer, plus hand-made
// UTF-8 replacement and display cases.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"
#include "media/byte_tokenizer.h"
#include "support/test_support.h"

namespace perceiver {

namespace {

using nlohmann::json;

const json& cases() {
  static const json parsed =
      json::parse(test::read_text(test::golden_dir() + "/tokenizer/tokenizer_cases.json"));
  return parsed;
}

std::string to_hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xF]);
  }
  return out;
}

// "tokenizer(texts, ..., max_length=16)" → 16.
size_t max_length_of(const std::string& call) {
  const std::string key = "max_length=";
  const size_t at = call.find(key);
  REQUIRE(at != std::string::npos);
  size_t end = at + key.size();
  size_t value = 0;
  bool any = false;
  while (end < call.size() && call[end] >= '0' && call[end] <= '9') {
    value = value * 10 + static_cast<size_t>(call[end] - '0');
    ++end;
    any = true;
  }
  REQUIRE(any);
  return value;
}

const std::string kFffd = "\xEF\xBF\xBD";

}  // namespace

TEST_CASE("tokenizer golden: special token table") {
  const json& special = cases()["special_tokens"];
  REQUIRE(special.size() == 6);
  for (const auto& [name, id] : special.items()) {
    CHECK(tokenizer::special_token_name(id.get<int64_t>()) == name);
    CHECK(tokenizer::encode(name, false) == std::vector<int64_t>{id.get<int64_t>()});
  }
  CHECK(cases()["vocab_size"].get<int64_t>() == tokenizer::kVocabSize);
  CHECK_THROWS_AS(tokenizer::special_token_name(6), Error);
  CHECK_THROWS_AS(tokenizer::special_token_name(-1), Error);
}

TEST_CASE("tokenizer golden: encode cases") {
  const json& list = cases()["encode"];
  REQUIRE(list.size() > 0);
  for (const json& c : list) {
    const std::string text = c["text"].get<std::string>();
    CAPTURE(text);
    CHECK(to_hex(text) == c["utf8_hex"].get<std::string>());
    const auto with = c["ids_with_special_tokens"].get<std::vector<int64_t>>();
    const auto without = c["ids_without_special_tokens"].get<std::vector<int64_t>>();
    CHECK(tokenizer::encode(text) == with);
    CHECK(tokenizer::encode(text, true) == with);
    CHECK(tokenizer::encode(text, false) == without);
    CHECK(tokenizer::decode(with) == c["decode_of_ids_with_special_tokens"].get<std::string>());
    CHECK(tokenizer::decode(with, true) ==
          c["decode_of_ids_with_special_tokens_skip_special"].get<std::string>());
  }
}

TEST_CASE("tokenizer golden: encode_padded cases") {
  const json& list = cases()["encode_padded"];
  REQUIRE(list.size() > 0);
  for (const json& c : list) {
    const std::string call = c["call"].get<std::string>();
    CAPTURE(call);
    const size_t max_length = max_length_of(call);
    const auto texts = c["texts"].get<std::vector<std::string>>();
    const auto batch = tokenizer::encode_padded(texts, max_length);
    const auto ids = c["input_ids"].get<std::vector<std::vector<int64_t>>>();
    const auto mask = c["attention_mask"].get<std::vector<std::vector<int64_t>>>();
    CHECK(batch.input_ids == ids);
    CHECK(batch.attention_mask == mask);
    for (const auto& row : batch.input_ids) CHECK(row.size() == max_length);
  }
}

TEST_CASE("tokenizer golden: decode cases") {
  const json& list = cases()["decode"];
  REQUIRE(list.size() > 0);
  for (const json& c : list) {
    const auto ids = c["ids"].get<std::vector<int64_t>>();
    CAPTURE(c["ids"].dump());
    CHECK(tokenizer::decode(ids) == c["text"].get<std::string>());
    CHECK(tokenizer::decode(ids, false) == c["text"].get<std::string>());
    CHECK(tokenizer::decode(ids, true) == c["text_skip_special_tokens"].get<std::string>());
  }
}

TEST_CASE("spec reference encodings") {
  CHECK(tokenizer::encode("Unicode \xE2\x82\xAC.") ==
        std::vector<int64_t>{4, 91, 116, 111, 105, 117, 106, 107, 38, 232, 136, 178, 52, 5});
  CHECK(tokenizer::decode({178}) == kFffd);
  CHECK(tokenizer::decode(tokenizer::encode("Unicode \xE2\x82\xAC.")) ==
        "[CLS]Unicode \xE2\x82\xAC.[SEP]");
}

TEST_CASE("special tokens are exact and case-sensitive") {
  using V = std::vector<int64_t>;
  auto bytes = [](const std::string& s) {
    V ids;
    for (const char c : s) ids.push_back(static_cast<unsigned char>(c) + tokenizer::kByteOffset);
    return ids;
  };
  CHECK(tokenizer::encode("[mask]", false) == bytes("[mask]"));
  CHECK(tokenizer::encode("[MASK", false) == bytes("[MASK"));
  CHECK(tokenizer::encode("[ MASK]", false) == bytes("[ MASK]"));
  CHECK(tokenizer::encode("MASK]", false) == bytes("MASK]"));
  CHECK(tokenizer::encode("[[MASK]]", false) == V{bytes("[")[0], 3, bytes("]")[0]});
  CHECK(tokenizer::encode(" [MASK] ", false) == V{38, 3, 38});  // neighbouring spaces are kept
  CHECK(tokenizer::encode("[CLS][SEP]", true) == V{4, 4, 5, 5});
  CHECK(tokenizer::encode("", true) == V{4, 5});
  CHECK(tokenizer::encode("", false).empty());
  // Bytes of every value, including NUL and 0xFF.
  CHECK(tokenizer::encode(std::string("\x00\xff", 2), false) == V{6, 261});
}

TEST_CASE("encode_padded truncation keeps the final [SEP]") {
  const auto batch = tokenizer::encode_padded({"abcdef", "ab", ""}, 5);
  CHECK(batch.input_ids[0] == std::vector<int64_t>{4, 103, 104, 105, 5});
  CHECK(batch.attention_mask[0] == std::vector<int64_t>{1, 1, 1, 1, 1});
  CHECK(batch.input_ids[1] == std::vector<int64_t>{4, 103, 104, 5, 0});
  CHECK(batch.attention_mask[1] == std::vector<int64_t>{1, 1, 1, 1, 0});
  CHECK(batch.input_ids[2] == std::vector<int64_t>{4, 5, 0, 0, 0});
  CHECK(batch.attention_mask[2] == std::vector<int64_t>{1, 1, 0, 0, 0});
  const auto minimal = tokenizer::encode_padded({"abc"}, 2);
  CHECK(minimal.input_ids[0] == std::vector<int64_t>{4, 5});
  CHECK(tokenizer::encode_padded({}, 8).input_ids.empty());
  CHECK_THROWS_AS(tokenizer::encode_padded({"a"}, 1), Error);
}

TEST_CASE("decode rejects ids outside the vocabulary") {
  for (const int64_t bad : {int64_t{-1}, int64_t{262}, int64_t{1000}}) {
    try {
      tokenizer::decode({4, bad});
      FAIL("decode should throw");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Input);
    }
  }
  CHECK_NOTHROW(tokenizer::decode({0, 261}));
}

TEST_CASE("utf8_replace_invalid follows Python errors=replace") {
  using tokenizer::utf8_replace_invalid;
  CHECK(utf8_replace_invalid("") == "");
  CHECK(utf8_replace_invalid("plain ASCII") == "plain ASCII");
  CHECK(utf8_replace_invalid(std::string_view("a\0b", 3)) == std::string("a\0b", 3));
  // Truncated 3-byte sequence → one U+FFFD.
  CHECK(utf8_replace_invalid("\xe2\x82") == kFffd);
  CHECK(utf8_replace_invalid("\xe2\x82" "A") == kFffd + "A");
  // Bytes that never start a sequence → one each.
  CHECK(utf8_replace_invalid("\xff\xfe") == kFffd + kFffd);
  CHECK(utf8_replace_invalid("\x80\xbf") == kFffd + kFffd);
  CHECK(utf8_replace_invalid("\xf5\x80\x80\x80") == kFffd + kFffd + kFffd + kFffd);
  // Surrogate encoded in UTF-8: ED must be followed by 80..9F, so all three bytes are replaced.
  CHECK(utf8_replace_invalid("\xed\xa0\x80") == kFffd + kFffd + kFffd);
  CHECK(utf8_replace_invalid("\xed\x9f\xbf") == "\xed\x9f\xbf");  // U+D7FF is valid
  // Truncated 4-byte prefix followed by ASCII.
  CHECK(utf8_replace_invalid("\xf0\x9f\x98" "A") == kFffd + "A");
  CHECK(utf8_replace_invalid("\xf0\x9f\x98") == kFffd);
  // Overlongs.
  CHECK(utf8_replace_invalid("\xc0\xaf") == kFffd + kFffd);
  CHECK(utf8_replace_invalid("\xc1\xbf") == kFffd + kFffd);
  CHECK(utf8_replace_invalid("\xe0\x80\xaf") == kFffd + kFffd + kFffd);
  CHECK(utf8_replace_invalid("\xe0\xa0\x80") == "\xe0\xa0\x80");
  CHECK(utf8_replace_invalid("\xf0\x80\x80\xaf") == kFffd + kFffd + kFffd + kFffd);
  // Beyond U+10FFFF.
  CHECK(utf8_replace_invalid("\xf4\x90\x80\x80") == kFffd + kFffd + kFffd + kFffd);
  CHECK(utf8_replace_invalid("\xf4\x8f\xbf\xbf") == "\xf4\x8f\xbf\xbf");
  // Valid multi-byte text is unchanged.
  CHECK(utf8_replace_invalid("\xf0\x9f\x98\x80") == "\xf0\x9f\x98\x80");  // 😀
  CHECK(utf8_replace_invalid("\xc3\xa9\xe2\x82\xac") == "\xc3\xa9\xe2\x82\xac");  // é€
  // A valid lead interrupting a truncated sequence starts a new one.
  CHECK(utf8_replace_invalid("\xe2\x82\xe2\x82\xac") == kFffd + "\xe2\x82\xac");
  CHECK(utf8_replace_invalid("\xc3\xc3\xa9") == kFffd + "\xc3\xa9");
  // Too many continuation bytes: the extra one is replaced alone.
  CHECK(utf8_replace_invalid("\xc3\xa9\xa9") == "\xc3\xa9" + kFffd);
}

TEST_CASE("token_display") {
  using tokenizer::token_display;
  CHECK(token_display(0) == "[PAD]");
  CHECK(token_display(3) == "[MASK]");
  CHECK(token_display(5) == "[SEP]");
  CHECK(token_display(6 + 'a') == "a");
  CHECK(token_display(6 + ' ') == " ");
  CHECK(token_display(6 + '~') == "~");
  CHECK(token_display(6 + '"') == "\"");
  CHECK(token_display(6 + '\\') == "\\");
  CHECK(token_display(6) == "\\x00");
  CHECK(token_display(6 + '\n') == "\\x0a");
  CHECK(token_display(6 + 0x1f) == "\\x1f");
  CHECK(token_display(6 + 0x7f) == "\\x7f");
  CHECK(token_display(6 + 0xe2) == "\\xe2");
  CHECK(token_display(261) == "\\xff");
  CHECK_THROWS_AS(token_display(-1), Error);
  CHECK_THROWS_AS(token_display(262), Error);
}

}  // namespace perceiver
