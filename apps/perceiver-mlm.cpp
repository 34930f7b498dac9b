// perceiver-mlm: fill [MASK] bytes of text with the byte-level Perceiver IO language model.
//   echo 'The [MASK:4] sat on the mat.' | perceiver-mlm -m language-perceiver/
//   perceiver-mlm -m language-perceiver/ --json --top-k 5 a.txt b.txt
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "checkpoint/config.h"
#include "cli/app_options.h"
#include "cli/exit_codes.h"
#include "common/atomic_file.h"
#include "kernels/runtime.h"
#include "media/byte_tokenizer.h"
#include "media/masked_text.h"
#include "models/mask_filler.h"

using namespace perceiver;

namespace {

constexpr const char* kProgram = "perceiver-mlm";

struct Options {
  std::string model_dir;
  std::vector<std::string> files;
  bool lines = false, json = false;
  int64_t top_k = 5;
  std::vector<std::string> mask_spans;
  std::string output;
  size_t max_input_bytes = 64u << 20;
  int threads = 0;
};

struct Document {
  std::string file;  // "-" for stdin
  int64_t line = 0;  // 1-based with --lines, else 0
  std::string text;
};

std::string read_all(std::istream& in) {
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Reads one input (a file or "-"), then splits it into documents.
std::vector<Document> read_documents(const std::string& file, const Options& options) {
  std::string text;
  if (file == "-") {
    text = read_all(std::cin);
  } else {
    if (std::filesystem::is_directory(file)) fail(ErrorKind::Input, file + ": is a directory, expected a text file");
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(ErrorKind::Input, file + ": cannot open the file");
    text = read_all(in);
    if (in.bad()) fail(ErrorKind::Input, file + ": read error");
  }
  if (text.size() > options.max_input_bytes)
    fail(ErrorKind::Limit, file + ": " + std::to_string(text.size()) + " bytes exceed the limit of " +
                               std::to_string(options.max_input_bytes) + " (raise it with --max-input-bytes)");
  if (!options.lines) return {{file, 0, text}};
  std::vector<Document> documents;
  size_t start = 0;
  int64_t number = 1;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    documents.push_back({file, number++, text.substr(start, end - start)});
    start = end + 1;
  }
  return documents;
}

nlohmann::json document_json(const Document& document, const FilledDocument& filled) {
  nlohmann::json masks = nlohmann::json::array();
  for (const MaskPrediction& mask : filled.masks) {
    nlohmann::json candidates = nlohmann::json::array();
    for (const TokenScore& c : mask.candidates)
      candidates.push_back({{"id", c.id}, {"token", tokenizer::token_display(c.id)}, {"p", c.p}});
    masks.push_back({{"position", mask.position}, {"candidates", candidates}});
  }
  nlohmann::json line = {{"file", document.file}};
  if (document.line > 0) line["line"] = document.line;
  line["masks"] = masks;
  line["text"] = tokenizer::utf8_replace_invalid(filled.text);
  return line;
}

std::string error_json(const std::string& file, const std::string& message) {
  return nlohmann::json{{"file", file}, {"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run(const Options& options) {
  kernels::set_num_threads(options.threads);
  if (options.model_dir.empty())
    fail(ErrorKind::Usage, "no model folder: pass -m/--model DIR or set PERCEIVER_MLM_MODEL");
  const PerceiverConfig config = load_config((std::filesystem::path(options.model_dir) / "config.json").string());
  if (config.architecture != "PerceiverForMaskedLM")
    fail(ErrorKind::ConfigInvalid, options.model_dir + ": holds a " + config.architecture +
                                       ", perceiver-mlm needs a PerceiverForMaskedLM model");
  const auto weights = open_model_weights(options.model_dir);
  const MaskedLanguageModel model(config, *weights);
  weights->finish();

  const std::vector<std::string> files = options.files.empty() ? std::vector<std::string>{"-"} : options.files;
  std::ostringstream out;  // everything goes out at the end: to stdout, or atomically to -o
  int failed = 0;
  for (const std::string& file : files) {
    try {
      for (const Document& document : read_documents(file, options)) {
        const FilledDocument filled = fill_masks(model, encode_masked_document(document.text, options.mask_spans),
                                                 options.top_k);
        if (options.json) out << document_json(document, filled).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        else out << filled.text << (options.lines ? "\n" : "");
      }
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit) throw;
      ++failed;  // a bad input is reported and skipped; the others go on
      cli::report(kProgram, e);
      if (options.json) out << error_json(file, e.what()) << '\n';
    }
  }
  if (options.output.empty()) {
    std::cout << out.str() << std::flush;
    if (!std::cout) fail(ErrorKind::Output, "standard output: write failed");
  } else {
    write_file_atomically(options.output, [&](std::ostream& stream) { stream << out.str(); });
  }
  return cli::finish_batch(kProgram, failed, files.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Fill masked bytes of text with the byte-level Perceiver IO masked language model.\n"
      "Input is UTF-8 text from FILEs (one document each) or stdin. Mark what to predict with\n"
      "  [MASK]     one masked byte (as the HF tokenizer reads it),\n"
      "  [MASK:N]   N masked bytes, e.g. 'The cat [MASK:4] on the mat' (a span starting with its\n"
      "             space, ' sat', is what the model predicts best),\n"
      "  --mask-span TEXT   every occurrence of TEXT masked byte for byte.\n"
      "Prints the text with masks filled in, or with --json one line per document:\n"
      "  {\"file\", \"masks\": [{\"position\", \"candidates\": [{\"id\", \"token\", \"p\"}]}], \"text\"}\n"
      "position counts tokens of the document: [CLS] = 0, byte i = i + 1.",
      kProgram};
  Options options;
  app.add_option("files", options.files, "text files, one document each ('-' or none: stdin)");
  app.add_option("-m,--model", options.model_dir, "model folder (config.json + model.safetensors or pytorch_model.bin)")
      ->envname("PERCEIVER_MLM_MODEL");
  app.add_flag("--lines", options.lines, "each line is a document (without its newline)");
  app.add_flag("-j,--json", options.json, "JSON lines with the top-k candidates of every mask");
  app.add_option("-k,--top-k", options.top_k, "candidates per mask in --json output (0 = all 262)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--mask-span", options.mask_spans, "mask every occurrence of this text (repeatable)");
  app.add_option("-o,--output", options.output, "write to this file (whole or not at all) instead of stdout");
  app.add_option("--max-input-bytes", options.max_input_bytes, "largest input accepted per file")
      ->capture_default_str();
  cli::add_threads_option(app, options.threads);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  return cli::run_guarded(kProgram, [&] { return run(options); });
}
