// The deterministic fuzzing driver of CI (docs/testing.md, "Fuzzing"): links with one fuzz
// target (its LLVMFuzzerTestOneInput) instead of libFuzzer, runs every given corpus file once as
// it is, then a fixed set of mutations of it. Mutant m of a file is a function of (--seed, the
// file's bytes, m) and of the other files named (splicing), and nothing else: no coverage
// feedback, no clock, no addresses, so the same commit always runs the same inputs and gets the
// same verdict. Open-ended, coverage-guided fuzzing stays with libFuzzer (scripts/fuzz.sh long).
//
//   fuzz-<target>-mutations [--mutations N] [--seed S] [--max-len BYTES] [--dict FILE]
//                           [--timeout SECONDS] [--artifacts DIR] [--only FILE:M] FILE...
//
// A sanitizer report, a FUZZ FINDING (abort) or an input that runs longer than --timeout writes
// that input to DIR/crash-<hash> (or timeout-<hash>) first and prints its name and the mutant
// that made it, so `fuzz-<target>-mutations --only FILE:M FILE...` (the same files) repeats it.
#include <fcntl.h>
#include <signal.h>
#include <sanitizer/common_interface_defs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/random.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Bytes = std::vector<uint8_t>;

// The input being run, for the handlers below (they run where nothing else can be trusted).
const Bytes* g_current = nullptr;
char g_artifact_dir[4096] = ".";
char g_label[512] = "";

uint64_t fnv1a(const Bytes& bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (uint8_t b : bytes) hash = (hash ^ b) * 0x100000001b3ULL;
  return hash;
}

// SplitMix64, as everywhere in the project (common/random.h): the same draws on every platform.
// below() is the driver's own, next() % n (not SplitMix64::below's rejection), so every mutant
// stays the one its --only FILE:M names.
struct Random {
  perceiver::SplitMix64 generator;
  uint64_t next() { return generator.next(); }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
};

// Writes the current input as <dir>/<kind>-<hash> with async-signal-safe calls only.
void save_current(const char* kind) {
  if (!g_current) return;
  char path[4200];
  const uint64_t hash = fnv1a(*g_current);
  static const char* digits = "0123456789abcdef";
  char hex[17];
  for (int i = 0; i < 16; ++i) hex[i] = digits[(hash >> (60 - 4 * i)) & 15];
  hex[16] = 0;
  size_t n = 0;
  for (const char* part : {static_cast<const char*>(g_artifact_dir), "/", kind, "-", static_cast<const char*>(hex)})
    for (const char* c = part; *c && n + 1 < sizeof path; ++c) path[n++] = *c;
  path[n] = 0;
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    const uint8_t* data = g_current->data();
    size_t left = g_current->size();
    while (left > 0) {
      const ssize_t written = write(fd, data, left);
      if (written <= 0) break;
      data += written, left -= static_cast<size_t>(written);
    }
    close(fd);
  }
  for (const char* part : {"\nfuzz driver: ", kind, " on ", static_cast<const char*>(g_label), "; input saved as ",
                           static_cast<const char*>(path), "\n"})
    if (write(2, part, std::strlen(part)) < 0) break;
}

void on_death() { save_current("crash"); }

void on_signal(int signal) {
  save_current(signal == SIGALRM ? "timeout" : "crash");
  if (signal == SIGALRM) _exit(70);
  ::signal(signal, SIG_DFL);
  raise(signal);
}

// Values that sit at the edges parsers get wrong: sizes, signs, powers of two, float specials.
const uint64_t kInteresting[] = {0, 1, 2, 7, 8, 16, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
                                 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
                                 0x8000000000000000ULL, 0xffffffffffffffffULL, 0x7f800000 /* f32 inf */,
                                 0x7fc00000 /* f32 NaN */, 0x7ff8000000000000ULL /* f64 NaN */};
const char* const kNumbers[] = {"0", "-1", "1", "-0", "255", "65536", "2147483648", "4294967296", "-9223372036854775809",
                                "18446744073709551616", "1e308", "-1e308", "1e-320", "NaN", "Infinity", "0.5",
                                "3037000500", "100000000000000000000"};

struct Mutator {
  const std::vector<Bytes>& corpus;
  const std::vector<Bytes>& dictionary;
  size_t max_len;

  void mutate_once(Bytes& data, Random& random) const {
    const size_t size = data.size();
    switch (random.below(13)) {
      case 0:  // flip a bit
        if (size) data[random.below(size)] ^= static_cast<uint8_t>(1u << random.below(8));
        break;
      case 1:  // a random byte
        if (size) data[random.below(size)] = static_cast<uint8_t>(random.next());
        break;
      case 2:  // a small step
        if (size) data[random.below(size)] += static_cast<uint8_t>(random.below(2) ? 1 : 0xff);
        break;
      case 3: {  // an interesting 1, 2, 4 or 8-byte value, little- or big-endian
        const size_t width = size_t{1} << random.below(4);
        if (size < width) break;
        const uint64_t value = kInteresting[random.below(std::size(kInteresting))];
        const size_t at = random.below(size - width + 1);
        const bool big = random.below(2);
        for (size_t i = 0; i < width; ++i)
          data[at + i] = static_cast<uint8_t>(value >> (8 * (big ? width - 1 - i : i)));
        break;
      }
      case 4: {  // delete a range
        if (!size) break;
        const size_t at = random.below(size), count = 1 + random.below(std::min<size_t>(32, size - at));
        data.erase(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + count));
        break;
      }
      case 5: {  // insert random bytes
        const size_t at = random.below(size + 1), count = 1 + random.below(16);
        Bytes insert(count);
        for (uint8_t& b : insert) b = static_cast<uint8_t>(random.next());
        data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), insert.begin(), insert.end());
        break;
      }
      case 6: {  // copy a range elsewhere
        if (!size) break;
        const size_t from = random.below(size), count = 1 + random.below(std::min<size_t>(64, size - from));
        const Bytes chunk(data.begin() + static_cast<std::ptrdiff_t>(from), data.begin() + static_cast<std::ptrdiff_t>(from + count));
        data.insert(data.begin() + static_cast<std::ptrdiff_t>(random.below(size + 1)), chunk.begin(), chunk.end());
        break;
      }
      case 7:  // truncate
        if (size) data.resize(random.below(size));
        break;
      case 8: {  // a dictionary token, inserted or written over
        if (dictionary.empty()) break;
        const Bytes& token = dictionary[random.below(dictionary.size())];
        const size_t at = random.below(size + 1);
        if (random.below(2) || at + token.size() > size)
          data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), token.begin(), token.end());
        else
          std::copy(token.begin(), token.end(), data.begin() + static_cast<std::ptrdiff_t>(at));
        break;
      }
      case 9: {  // splice: this input's head, another corpus file's tail
        const Bytes& other = corpus[random.below(corpus.size())];
        const size_t cut = random.below(size + 1), from = random.below(other.size() + 1);
        data.resize(cut);
        data.insert(data.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        break;
      }
      case 10: {  // a decimal number replaced by an edge value (text formats: JSON, headers)
        std::vector<size_t> starts;
        for (size_t i = 0; i < size; ++i)
          if (data[i] >= '0' && data[i] <= '9' && (i == 0 || data[i - 1] < '0' || data[i - 1] > '9')) starts.push_back(i);
        if (starts.empty()) break;
        const size_t at = starts[random.below(starts.size())];
        size_t end = at;
        while (end < size && ((data[end] >= '0' && data[end] <= '9') || data[end] == '.')) ++end;
        const char* number = kNumbers[random.below(std::size(kNumbers))];
        data.erase(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(end));
        data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), number, number + std::strlen(number));
        break;
      }
      case 11: {  // one byte or a short chunk repeated many times (nesting, long runs)
        if (!size) break;
        const size_t from = random.below(size), count = 1 + random.below(std::min<size_t>(4, size - from));
        const size_t repeats = size_t{16} << random.below(9);  // 16 .. 4096
        Bytes run;
        for (size_t r = 0; r < repeats && run.size() < max_len; ++r)
          run.insert(run.end(), data.begin() + static_cast<std::ptrdiff_t>(from), data.begin() + static_cast<std::ptrdiff_t>(from + count));
        data.insert(data.begin() + static_cast<std::ptrdiff_t>(from), run.begin(), run.end());
        break;
      }
      default: {  // swap two bytes
        if (size < 2) break;
        std::swap(data[random.below(size)], data[random.below(size)]);
        break;
      }
    }
  }

  Bytes mutant(const Bytes& original, uint64_t seed) const {
    Random random{perceiver::SplitMix64(seed)};
    Bytes data = original;
    const size_t steps = 1 + random.below(4);
    for (size_t s = 0; s < steps; ++s) mutate_once(data, random);
    if (data.size() > max_len) data.resize(max_len);
    return data;
  }
};

Bytes read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz driver: cannot read %s\n", path);
    std::exit(2);
  }
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// libFuzzer's dictionary format: one "quoted token" per line (\\, \" and \xNN escapes), # comments.
std::vector<Bytes> read_dictionary(const char* path) {
  std::vector<Bytes> tokens;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const size_t open_quote = line.find('"'), close_quote = line.rfind('"');
    if (line.empty() || line[0] == '#' || open_quote == std::string::npos || close_quote <= open_quote) continue;
    Bytes token;
    for (size_t i = open_quote + 1; i < close_quote; ++i) {
      if (line[i] == '\\' && i + 1 < close_quote) {
        ++i;
        if (line[i] == 'x' && i + 2 < close_quote) {
          token.push_back(static_cast<uint8_t>(std::stoi(line.substr(i + 1, 2), nullptr, 16)));
          i += 2;
          continue;
        }
      }
      token.push_back(static_cast<uint8_t>(line[i]));
    }
    tokens.push_back(token);
  }
  return tokens;
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: fuzz-<target>-mutations [--mutations N] [--seed S] [--max-len BYTES] [--dict FILE] "
               "[--timeout SECONDS] [--artifacts DIR] [--only FILE:M] FILE...\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  size_t mutations = 100, max_len = 4096;
  uint64_t seed = 1;
  unsigned timeout = 20;
  std::vector<Bytes> dictionary;
  std::vector<const char*> paths;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (arg == "--mutations") mutations = std::strtoull(value(), nullptr, 10);
    else if (arg == "--seed") seed = std::strtoull(value(), nullptr, 10);
    else if (arg == "--max-len") max_len = std::strtoull(value(), nullptr, 10);
    else if (arg == "--timeout") timeout = static_cast<unsigned>(std::strtoul(value(), nullptr, 10));
    else if (arg == "--dict") dictionary = read_dictionary(value());
    else if (arg == "--artifacts") std::snprintf(g_artifact_dir, sizeof g_artifact_dir, "%s", value());
    else if (arg == "--only") only = value();
    else if (arg.rfind("--", 0) == 0) usage();
    else paths.push_back(argv[i]);
  }
  if (paths.empty()) usage();
  std::vector<Bytes> corpus;
  for (const char* path : paths) corpus.push_back(read_file(path));

  __sanitizer_set_death_callback(on_death);
  // SIGSEGV and the like stay with AddressSanitizer, which reports them and calls on_death.
  for (int signal : {SIGALRM, SIGABRT}) ::signal(signal, on_signal);

  const Mutator mutator{corpus, dictionary, max_len};
  const auto start = std::chrono::steady_clock::now();
  size_t runs = 0;
  for (size_t f = 0; f < corpus.size(); ++f) {
    const uint64_t file_seed = fnv1a(corpus[f]) ^ seed;
    for (size_t m = 0; m <= mutations; ++m) {  // m = 0: the file as it is
      if (!only.empty() && only != std::string(paths[f]) + ":" + std::to_string(m)) continue;
      const Bytes input = m == 0 ? corpus[f] : mutator.mutant(corpus[f], file_seed + m * perceiver::SplitMix64::kGamma);
      std::snprintf(g_label, sizeof g_label, "%s:%zu", paths[f], m);
      g_current = &input;
      alarm(timeout);
      LLVMFuzzerTestOneInput(input.data(), input.size());
      alarm(0);
      g_current = nullptr;
      ++runs;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu files, %zu mutations each: %zu inputs run\n", corpus.size(), mutations, runs);
  std::fprintf(stderr, "(%.1f s)\n", seconds);
  return 0;
}
