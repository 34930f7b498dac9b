// perceiver-mlm: fill [MASK] bytes of text with the byte-level Perceiver IO language model.
//   echo 'The [MASK:4] sat on the mat.' | perceiver-mlm -m language-perceiver/
//   perceiver-mlm -m language-perceiver/ --json --top-k 5 a.txt b.txt
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "checkpoint/config.h"
#include "common/escape.h"
#include "common/input_file.h"
#include "cli/app_options.h"
#include "cli/shipped_models.h"
#include "cli/exit_codes.h"
#include "cli/interrupt.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "cli/shard.h"
#include "cli/summary.h"
#include "kernels/runtime.h"
#include "media/byte_tokenizer.h"
#include "media/masked_text.h"
#include "tasks/mask_filler.h"

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
  std::string shard;
  bool skip_existing = false;
  bool quiet = false;
  bool top_k_given = false;
  std::string decode = "parallel";
  cli::ModelOptions model;  // threads, precision, weights-file limits
};

struct Document {
  std::string file;  // "-" for stdin
  int64_t line = 0;  // 1-based with --lines, else 0
  std::string text;
};

// Reads an input (a file, or "-" for stdin) whole, refusing more than `limit` bytes before
// reading them (common/input_file.h). Error(Input) when it cannot be read, Error(Limit) naming
// --max-input-bytes.
std::string read_input(const std::string& file, size_t limit) {
  return read_input_file(file, {limit, "--max-input-bytes"});
}

// The inputs, read on demand. Standard input, a FIFO, a process substitution or a device can be
// read once: its text (or its error) is kept for the second pass, and a second mention of it
// reads as empty, as "-" always did. Regular files are read again.
class InputReader {
 public:
  explicit InputReader(size_t limit) : limit_(limit) {}
  void rewind() { uses_.clear(); }
  std::string read(const std::string& file) {
    if (!reads_once(file)) return read_input(file, limit_);
    if (uses_[file]++ > 0) return "";
    auto [cached, fresh] = once_.try_emplace(file);
    if (fresh) {
      try {
        cached->second.text = read_input(file, limit_);
      } catch (const Error& e) {
        cached->second.error = std::make_unique<Error>(e);
      }
    }
    if (cached->second.error) throw *cached->second.error;
    return cached->second.text;
  }

  // Standard input, or a path that is neither a regular file nor a folder (nor missing: those
  // read_input reports).
  static bool reads_once(const std::string& file) { return perceiver::reads_once(file); }

 private:
  struct ReadOnce {
    std::string text;
    std::unique_ptr<Error> error;
  };
  size_t limit_;
  std::map<std::string, int> uses_;
  std::map<std::string, ReadOnce> once_;
};

// A file's documents: the whole text, or with --lines each line without its newline.
std::vector<Document> split_documents(const std::string& file, const std::string& text, bool lines) {
  if (!lines) return {{file, 0, text}};
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

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One document's JSON line, written as the windows run (the object nlohmann would print for
// {"file", "line", "masks", "text"}, byte for byte), so a document with millions of masks needs
// one window's memory, not a record's.
class DocumentRecord {
 public:
  DocumentRecord(const Document& document, cli::ResultOutput& out) : out_(out) {
    std::string head = "{" + cli::file_fields_text(document.file);
    if (document.line > 0) head += ",\"line\":" + std::to_string(document.line);
    out_.write_part(head + ",\"masks\":[");
  }
  void add(const std::vector<MaskPrediction>& window) {
    for (const MaskPrediction& mask : window) {
      nlohmann::json candidates = nlohmann::json::array();
      for (const TokenScore& c : mask.candidates)
        candidates.push_back({{"id", c.id}, {"token", tokenizer::token_display(c.id)}, {"p", c.p}});
      out_.write_part((first_ ? "" : ",") + json_text({{"position", mask.position}, {"candidates", candidates}}));
      first_ = false;
    }
  }
  void finish(const std::string& filled_text) {
    out_.write_part("],\"text\":" + json_text(tokenizer::utf8_replace_invalid(filled_text)) + "}\n");
    out_.end_record();
  }

 private:
  cli::ResultOutput& out_;
  bool first_ = true;
};

// Thrown from the window callback when a signal arrives: the document is abandoned between
// windows.
struct AbandonedDocument {};

std::string error_json(const std::string& file, const std::string& message) {
  nlohmann::json record = cli::file_fields(file);
  record["error"] = message;
  return record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int run(Options options) {
  cli::apply_model_options(options.model);
  if (options.model_dir.empty()) {
    options.model_dir = cli::shipped_model_dir("byte-mlm");
    if (options.model_dir.empty())
      fail(ErrorKind::Usage, "no model folder: pass -m/--model DIR or set PERCEIVER_MLM_MODEL (no shipped model byte-mlm: " +
                                 cli::shipped_model_search_text("byte-mlm") + ")");
    if (!options.quiet)
      std::fprintf(stderr, "%s: no --model given: using the small shipped model %s (models/README.md)\n", kProgram,
                   escape_control(options.model_dir).c_str());
  }
  if (options.top_k_given && !options.json)
    std::cerr << kProgram << ": warning: -k/--top-k only changes --json output (the text output has the best byte)" << std::endl;
  if (options.skip_existing && !options.output.empty() && !options.json)
    fail(ErrorKind::Usage, "--skip-existing with -o needs --json (the records name their input)");
  const cli::Shard shard = cli::resolve_shard(options.shard);
  // Every output is checked (and the journal opened) before any work.
  cli::ResultOutput out(kProgram, options.output, options.skip_existing && !options.output.empty(), shard.text());
  const PerceiverConfig config = load_config((std::filesystem::path(options.model_dir) / "config.json").string());
  if (config.architecture != "PerceiverForMaskedLM")
    fail(ErrorKind::ConfigInvalid, options.model_dir + ": holds a " + config.architecture +
                                       ", perceiver-mlm needs a PerceiverForMaskedLM model");
  const auto weights = open_model_weights(options.model_dir, options.model.limits);
  const MaskedLanguageModel model(config, *weights);
  weights->finish();

  // The ordered inputs are the files (one document each), or with --lines every line of every
  // file in order; a file that cannot be read (or is over the limit) is one input, which fails.
  const std::vector<std::string> files = options.files.empty() ? std::vector<std::string>{"-"} : options.files;
  InputReader reader(options.max_input_bytes);
  std::vector<size_t> counts_per_file(files.size(), 1);
  const bool stream = options.lines && shard.whole();
  if (options.lines && !stream) {  // a first pass counts the lines, so that a shard is a block of lines
    for (size_t f = 0; f < files.size(); ++f) {
      try {
        counts_per_file[f] = split_documents(files[f], reader.read(files[f]), true).size();
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit) throw;
      }
    }
    reader.rewind();
  }
  size_t total = 0;
  for (size_t count : counts_per_file) total += count;
  const cli::Range range = cli::shard_range(total, shard);

  cli::BatchCounts counts;
  counts.total = range.size();
  // A "-" (or FIFO) passed over still counts as read, so that a later one reads as empty, as in
  // the whole run.
  const auto pass_over = [&](const std::string& file) {
    if (!InputReader::reads_once(file)) return;
    try {
      reader.read(file);
    } catch (const Error&) {
    }
  };
  const Decoding decoding = options.decode == "parallel" ? Decoding::Parallel : Decoding::Iterative;
  cli::Progress progress(kProgram, stream ? 0 : range.size(), options.quiet, options.lines ? "lines" : "documents");
  const bool several_files = files.size() > 1;
  // One document: skipped when the journal has it, filled and written, or failed alone. False
  // when a signal abandoned it (stop the batch).
  const auto process = [&](const Document& document) {
    const std::string& file = document.file;
    if (const std::string key = cli::input_key(file, document.line); out.contains(key)) {
      counts.skip(out.failed_before(key));
      return true;
    }
    if (const std::string lookalike = mask_lookalike(document.text); !lookalike.empty())
      std::cerr << kProgram << ": warning: " << escape_control(options.lines ? file + ":" + std::to_string(document.line) : file)
                << ": " << escape_control(lookalike)
                << " looks like a mask but is read as text (masks are [MASK] and [MASK:N], N from 1 to 65536)"
                << std::endl;
    try {
      const std::vector<int64_t> ids = encode_masked_document(document.text, options.mask_spans);
      if (options.json) {
        DocumentRecord record(document, out);
        const std::string text = fill_masks(
            model, ids, options.top_k,
            [&](const std::vector<MaskPrediction>& window) {
              if (cli::interrupted()) throw AbandonedDocument{};
              record.add(window);
            },
            decoding);
        record.finish(text);
      } else {
        std::string text = fill_masks(
            model, ids, options.top_k,
            [&](const std::vector<MaskPrediction>&) {
              if (cli::interrupted()) throw AbandonedDocument{};
            },
            decoding);
        // Framing: a line gets its newline back; with several files each document ends with a
        // newline (added when it has none), so documents do not run together. One document
        // comes back byte for byte.
        if (options.lines || (several_files && (text.empty() || text.back() != '\n'))) text += '\n';
        out.write(text);
      }
    } catch (const AbandonedDocument&) {
      out.abandon_record();  // counted as not done by the summary
      return false;
    } catch (const std::exception& e) {
      // A document the model cannot fill (non-finite output) or that runs out of memory fails
      // alone; the next may fit.
      out.abandon_record();
      const auto* known = dynamic_cast<const Error*>(&e);
      if (known ? known->kind() != ErrorKind::Input : cli::exit_code_for_exception(e) != cli::kExitLimit) throw;
      const std::string where = options.lines ? file + ":" + std::to_string(document.line) : file;
      ++counts.failed;
      const std::string message = where + ": " + (known ? e.what() : "out of memory (" + std::string(e.what()) + ")");
      cli::report_input_error(kProgram, message);
      if (options.json) {
        nlohmann::json record = cli::file_fields(file);
        record["error"] = message;
        if (options.lines) record["line"] = document.line;
        out.write(json_text(record) + "\n");
      }
      return true;
    }
    ++counts.done;
    progress.advance();
    return true;
  };
  // A file that cannot be read (or is over the limit) is one failed input.
  const auto file_failed = [&](const std::string& file, const Error& e) {
    if (out.contains(cli::input_key(file))) {
      counts.skip(out.failed_before(cli::input_key(file)));
      return;
    }
    ++counts.failed;  // a bad input is reported and skipped; the others go on
    cli::report(kProgram, e);
    if (options.json) out.write(error_json(file, e.what()) + "\n");
  };
  // --lines without --shard: each line is answered as soon as it is complete (a co-process, or
  // a growing list); the count of inputs is known only at the end.
  if (stream) {
    counts.total = 0;
    for (const std::string& file : files) {
      if (cli::interrupted()) break;
      bool stop = false;
      try {
        LineReader lines(file, {options.max_input_bytes, "--max-input-bytes"});
        std::string text;
        for (int64_t number = 1; !stop && !cli::interrupted() && lines.next(text); ++number) {
          ++counts.total;
          stop = !process({file, number, text});
        }
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::Interrupted) {
          ++counts.total;  // the line being waited for: not done
          break;
        }
        if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit) throw;
        ++counts.total;
        file_failed(file, e);
      }
      if (stop) break;
    }
    progress.finish();
    out.close(counts.complete());
    return cli::finish_batch(kProgram, counts, shard);
  }
  size_t first = 0;  // index of the file's first input in the whole list
  for (size_t f = 0; f < files.size() && !cli::interrupted(); first += counts_per_file[f], ++f) {
    const std::string& file = files[f];
    if (first >= range.end || first + counts_per_file[f] <= range.begin) {
      pass_over(file);
      continue;
    }
    if (!options.lines && out.contains(cli::input_key(file))) {
      pass_over(file);
      counts.skip(out.failed_before(cli::input_key(file)));
      continue;
    }
    std::vector<Document> documents;
    try {
      documents = split_documents(file, reader.read(file), options.lines);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted) break;  // a signal ended a wait on a pipe or FIFO
      if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit) throw;
      file_failed(file, e);
      continue;
    }
    if (cli::interrupted()) break;  // arrived while the file was read: none of it is done
    bool stop = false;
    for (size_t d = 0; d < documents.size() && !stop; ++d) {
      if (d > 0 && cli::interrupted()) break;  // with --lines, stops between lines
      if (range.contains(first + d)) stop = !process(documents[d]);
    }
    if (stop) break;
  }
  progress.finish();
  out.close(counts.complete());
  return cli::finish_batch(kProgram, counts, shard);
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
  app.add_option("-m,--model", options.model_dir,
                 "model folder (config.json + model.safetensors or pytorch_model.bin); default: the shipped "
                 "models/byte-mlm")
      ->envname("PERCEIVER_MLM_MODEL");
  app.add_flag("--lines", options.lines, "each line is a document (without its newline)");
  app.add_flag("-q,--quiet", options.quiet, "no notes on stderr (errors are still printed)");
  app.add_flag("-j,--json", options.json, "JSON lines with the top-k candidates of every mask");
  CLI::Option* top_k = app.add_option("-k,--top-k", options.top_k, "candidates per mask in --json output (0 = all 262)")
                           ->check(CLI::NonNegativeNumber)
                           ->capture_default_str();
  app.add_option("--decode", options.decode,
                 "iterative: each run of masked bytes is decided left to right, each byte predicted with the ones "
                 "before it filled in (words come out more often as words); parallel: every masked byte from one "
                 "pass, as HF's fill-mask (the default; docs/mlm.md)")
      ->check(CLI::IsMember({"iterative", "parallel"}))
      ->capture_default_str();
  app.add_option("--mask-span", options.mask_spans, "mask every occurrence of this text (repeatable)");
  app.add_option("-o,--output", options.output, "write to this file (whole at the end; not at all when interrupted) instead of stdout");
  app.add_option("--max-input-bytes", options.max_input_bytes, "largest input accepted per file")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cli::add_skip_existing_flag(app, options.skip_existing,
                              "with -o FILE --json: keep FILE's records, skip their inputs, append the rest "
                              "(resumes an interrupted run; without -o it does nothing)");
  cli::add_shard_option(app, options.shard);
  cli::add_model_options(app, options.model);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  options.top_k_given = top_k->count() > 0;
  cli::install_interrupt_handlers();
  return cli::run_guarded(kProgram, [&] { return run(options); });
}
