// perceiver-classify: ImageNet labels for images with the Perceiver IO classifiers.
//   perceiver-classify -m vision-perceiver-fourier/ photo.jpg
//   perceiver-classify -m vision-perceiver-conv/ -r photos/ --format jsonl > labels.jsonl
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "checkpoint/config.h"
#include "checkpoint/safetensors.h"
#include "cli/app_options.h"
#include "cli/exit_codes.h"
#include "cli/inputs.h"
#include "cli/interrupt.h"
#include "cli/output.h"
#include "cli/progress.h"
#include "cli/shard.h"
#include "cli/summary.h"
#include "kernels/runtime.h"
#include "media/image.h"
#include "media/image_processor.h"
#include "common/escape.h"
#include "models/finite_output.h"
#include "models/image_classifier.h"
#include "models/text_classifier.h"
#include "tasks/top_labels.h"
#include "common/input_file.h"
#include "media/byte_tokenizer.h"

using namespace perceiver;

namespace {

constexpr const char* kProgram = "perceiver-classify";
constexpr const char* kNoInputs = "no input images (give files, directories, @list or - for a list on stdin)";

struct Options {
  std::string model_dir;
  std::vector<std::string> inputs;
  bool recursive = false, quiet = false;
  int64_t top_k = 5, batch = 1, max_pixels = 100'000'000;
  std::string format = "text", output, shard, save_inputs;
  bool skip_existing = false;
  bool null_separated = false;
  bool lines = false;  // a text classifier: every line a document
  cli::ModelOptions model;  // threads, precision, weights-file limits
};

constexpr uint64_t kMaxTextBytes = uint64_t{64} << 20;  // one text input (file or stdin)

using Label = LabelScore;

// Formats results in one of the three formats, in input order, into a cli::ResultOutput.
class ResultWriter {
 public:
  ResultWriter(const Options& options, const PerceiverConfig& config, cli::ResultOutput& out)
      : options_(options), config_(config), out_(out) {}
  void header() {
    if (options_.format == "tsv") out_.write("file\trank\tid\tlabel\tp\n");
  }
  std::string label(int64_t id) const {
    auto it = config_.id2label.find(id);
    return it == config_.id2label.end() ? std::to_string(id) : it->second;
  }
  // `line` > 0: a line of a text file (--lines), in the record as "line" and in text as FILE:LINE.
  void result(const std::string& file, const std::vector<Label>& top, int64_t line = 0) {
    std::ostringstream text;
    if (options_.format == "jsonl") {
      nlohmann::json entries = nlohmann::json::array();
      for (const Label& l : top) entries.push_back({{"id", l.id}, {"label", label(l.id)}, {"p", l.p}});
      nlohmann::json record = cli::file_fields(file);
      if (line > 0) record["line"] = line;
      record["top"] = entries;
      text << dump(record) << '\n';
    } else if (options_.format == "tsv") {
      const std::string where = line > 0 ? file + ":" + std::to_string(line) : file;
      for (size_t r = 0; r < top.size(); ++r)
        text << tsv_field(where) << '\t' << r + 1 << '\t' << top[r].id << '\t' << tsv_field(label(top[r].id)) << '\t'
             << format_p(top[r].p) << '\n';
    } else {
      text << tsv_field(line > 0 ? file + ":" + std::to_string(line) : file) << '\n';
      for (size_t r = 0; r < top.size(); ++r) {
        char line[64];
        std::snprintf(line, sizeof line, "  %2zu  %8.4f  %5lld  ", r + 1, top[r].p, static_cast<long long>(top[r].id));
        text << line << tsv_field(label(top[r].id)) << '\n';
      }
    }
    out_.write(text.str());
  }
  void error(const std::string& file, const std::string& message, int64_t line = 0) {
    if (options_.format != "jsonl") return;
    nlohmann::json record = cli::file_fields(file);
    if (line > 0) record["line"] = line;
    record["error"] = message;
    out_.write(dump(record) + "\n");
  }

 private:
  static std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
  // A tab, newline or backslash in a file name or label is escaped (\t, \n, \\), other control
  // bytes as \xNN (common/escape.h), so every field is one unambiguous cell.
  static std::string tsv_field(const std::string& s) { return escape_control(s, true); }
  static std::string format_p(double p) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", p);
    return buffer;
  }
  const Options& options_;
  const PerceiverConfig& config_;
  cli::ResultOutput& out_;
};

// The rows of `pixels` (one per decoded image, at batch positions `decoded`) whose inputs are to
// be computed.
Tensor rows_of(const Tensor& pixels, const std::vector<size_t>& decoded, const std::vector<bool>& computed) {
  std::vector<size_t> keep;
  for (size_t r = 0; r < decoded.size(); ++r)
    if (computed[decoded[r]]) keep.push_back(r);
  if (keep.size() == decoded.size()) return pixels;
  Shape shape = pixels.shape();
  shape[0] = static_cast<int64_t>(keep.size());
  Tensor out = Tensor::f32_uninitialized(shape);
  const size_t row = static_cast<size_t>(pixels.numel() / pixels.dim(0));
  for (size_t k = 0; k < keep.size(); ++k)
    std::copy_n(pixels.data<float>() + keep[k] * row, row, out.mutable_data<float>() + k * row);
  return out;
}

// A text classifier (PerceiverForSequenceClassification): every input file is one document, or
// with --lines every line; "-" is standard input. HF's tokenizer framing: [CLS] bytes [SEP],
// padded to max_position_embeddings with the attention mask; a longer document is truncated to
// its first max_position_embeddings − 2 bytes, as HF's tokenizer(truncation=True) does, with a
// note on stderr (docs/text-classification.md says why). Without --shard, lines are answered as
// they arrive (a batch holds only lines already written).
int run_text(const Options& options, const PerceiverConfig& config, const cli::Shard& shard) {
  if (options.recursive || options.null_separated || !options.save_inputs.empty())
    fail(ErrorKind::Usage, std::string(options.recursive ? "-r" : options.null_separated ? "-0" : "--save-inputs") +
                               " is for image classifiers; this model classifies text");
  cli::ResultOutput out(kProgram, options.output, options.skip_existing && !options.output.empty(), shard.text());
  const auto weights = open_model_weights(options.model_dir, options.model.limits);
  const TextClassifier model(config, *weights);
  weights->finish();
  const size_t max_length = static_cast<size_t>(model.max_length());

  struct Document {
    std::string file;
    int64_t line;  // 0: the whole file
    std::string text;
  };
  // The documents, in order: streamed without --shard, all read first with it (a shard is a block).
  // No input named: the text on stdin (as perceiver-mlm reads it).
  std::vector<std::string> files = options.inputs.empty() ? std::vector<std::string>{"-"} : options.inputs;
  size_t next_file = 0;
  std::unique_ptr<LineReader> reader;
  int64_t line_number = 0;
  std::vector<std::string> failed_files;  // unreadable inputs, reported in their place
  const auto next_document = [&](Document& doc) -> bool {
    for (;;) {
      if (reader) {
        std::string text;
        if (reader->next(text)) {
          doc = {files[next_file - 1], ++line_number, std::move(text)};
          return true;
        }
        reader.reset();
      }
      if (next_file == files.size()) return false;
      const std::string& file = files[next_file++];
      if (options.lines) {
        reader = std::make_unique<LineReader>(file, InputFileLimit{kMaxTextBytes, ""});
        line_number = 0;
        continue;
      }
      doc = {file, 0, read_input_file(file, {kMaxTextBytes, ""})};
      return true;
    }
  };
  std::vector<Document> all;
  size_t next_listed = 0;
  if (!shard.whole()) {
    for (Document doc; next_document(doc);) all.push_back(std::move(doc));
    all = cli::select_shard(all, shard);
  }
  const auto next_input = [&](Document& doc) {
    if (shard.whole()) return next_document(doc);
    if (next_listed == all.size()) return false;
    doc = std::move(all[next_listed++]);
    return true;
  };

  ResultWriter writer(options, config, out);
  writer.header();
  cli::BatchCounts counts;
  cli::Progress progress(kProgram, shard.whole() ? 0 : all.size(), options.quiet, options.lines ? "lines" : "documents");
  std::vector<Document> batch;
  bool ended = false;
  while (!cli::interrupted() && !ended) {
    batch.clear();
    Document doc;
    try {
      while (batch.size() < static_cast<size_t>(options.batch) && (batch.empty() || !reader || reader->ready())) {
        if (!next_input(doc)) {
          ended = true;
          break;
        }
        ++counts.total;
        if (const std::string key = cli::input_key(doc.file, doc.line); out.contains(key)) counts.skip(out.failed_before(key));
        else batch.push_back(std::move(doc));
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Interrupted) break;
      if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit) throw;
      ++counts.total;  // an input that cannot be read fails alone
      ++counts.failed;
      cli::report(kProgram, e);
      writer.error(files[next_file - 1], e.what());
      reader.reset();
    }
    if (batch.empty()) continue;
    std::vector<std::string> texts;
    for (const Document& d : batch) {
      texts.push_back(d.text);
      if (d.text.size() + 2 > max_length && !options.quiet)
        std::cerr << kProgram << ": note: " << escape_control(d.line ? d.file + ":" + std::to_string(d.line) : d.file)
                  << ": " << d.text.size() << " bytes, the model reads the first " << max_length - 2
                  << " (truncated as HF's tokenizer does)" << std::endl;
    }
    const tokenizer::PaddedBatch tokens = tokenizer::encode_padded(texts, max_length);
    const int64_t rows = static_cast<int64_t>(batch.size()), width = static_cast<int64_t>(max_length);
    Tensor ids = Tensor::zeros(DType::I64, {rows, width}), mask = Tensor::zeros(DType::I64, {rows, width});  // [b, P]
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < width; ++c) {
        ids.mutable_data<int64_t>()[r * width + c] = tokens.input_ids[static_cast<size_t>(r)][static_cast<size_t>(c)];
        mask.mutable_data<int64_t>()[r * width + c] = tokens.attention_mask[static_cast<size_t>(r)][static_cast<size_t>(c)];
      }
    const Tensor logits = model.forward(ids, &mask);  // [b, num_labels]
    require_finite_output(logits, "logits", model.weights_source());
    for (int64_t r = 0; r < rows; ++r) {
      const Document& d = batch[static_cast<size_t>(r)];
      writer.result(d.file, top_labels(logits.data<float>() + r * model.num_labels(), model.num_labels(), options.top_k), d.line);
      ++counts.done;
    }
    progress.advance(batch.size());
  }
  progress.finish();
  if (!ended && shard.whole()) ++counts.total;  // stopped by a signal before the end of the input
  out.close(counts.complete());
  return cli::finish_batch(kProgram, counts, shard);
}

int run(const Options& options) {
  cli::apply_model_options(options.model);
  if (options.model_dir.empty()) fail(ErrorKind::Usage, "no model folder: pass -m/--model DIR or set PERCEIVER_CLASSIFY_MODEL");
  if (options.skip_existing && !options.output.empty() && options.format != "jsonl")
    fail(ErrorKind::Usage, "--skip-existing with -o needs --format jsonl (the records name their input)");
  const cli::Shard shard = cli::resolve_shard(options.shard);
  const PerceiverConfig config = load_config((std::filesystem::path(options.model_dir) / "config.json").string());
  if (config.architecture == "PerceiverForSequenceClassification") return run_text(options, config, shard);
  if (options.lines) fail(ErrorKind::Usage, "--lines is for text classifiers; " + options.model_dir + " holds a " + config.architecture);
  if (options.inputs.empty()) fail(ErrorKind::Usage, "no images given: name files, directories, @LIST, or - for a list on stdin");
  if (!is_image_classifier(config.architecture))
    fail(ErrorKind::ConfigInvalid, options.model_dir + ": holds a " + config.architecture +
                                       ", perceiver-classify needs a PerceiverForImageClassification* or "
                                       "PerceiverForSequenceClassification model");
  const ImageProcessorConfig processor = load_image_processor_config(options.model_dir);
  // Learned positions fit one image size: a processor that makes another fails once, here,
  // instead of once per image.
  if (config.architecture == "PerceiverForImageClassificationLearned" && processor.do_resize &&
      processor.size != config.image_size) {
    const std::string source = std::filesystem::exists(std::filesystem::path(options.model_dir) / "preprocessor_config.json")
                                   ? options.model_dir + "/preprocessor_config.json"
                                   : "the default processor (the model folder has no preprocessor_config.json)";
    fail(ErrorKind::ConfigInvalid, options.model_dir + ": this model (learned positions) needs " +
                                       std::to_string(config.image_size) + "x" + std::to_string(config.image_size) +
                                       " images (config.json image_size), but " + source + " resizes them to " +
                                       std::to_string(processor.size) + "x" + std::to_string(processor.size));
  }
  // Every output is checked (and created) before any work.
  cli::ResultOutput out(kProgram, options.output, options.skip_existing && !options.output.empty(), shard.text());
  // --save-inputs: the pixel values of every image that decodes, in input order (docs/images.md).
  std::unique_ptr<SafetensorsAppender> saved;
  nlohmann::json saved_files = nlohmann::json::array();
  if (!options.save_inputs.empty()) {
    const int64_t side = processor.do_resize ? processor.size : 0;
    if (side == 0) fail(ErrorKind::Usage, "--save-inputs needs a processor that resizes (do_resize): images of different sizes make no one tensor");
    saved = std::make_unique<SafetensorsAppender>(
        options.save_inputs, std::vector<SafetensorsAppender::Column>{{"pixel_values", DType::F32, {3, side, side}}});
  }
  const auto weights = open_model_weights(options.model_dir, options.model.limits);
  const ImageClassifier model(config, *weights);
  weights->finish();

  cli::InputOptions input_options;
  input_options.recursive = options.recursive;
  input_options.extensions = cli::image_extensions();
  input_options.program = kProgram;
  input_options.null_separated = options.null_separated;
  // A list ("-", @LIST) without --shard is read as it comes, so each path is answered while the
  // list is still being written; otherwise the whole input list is known first (a shard is a
  // block of it, and progress has a total).
  const bool has_list = std::any_of(options.inputs.begin(), options.inputs.end(),
                                    [](const std::string& a) { return a == "-" || (a.size() > 1 && a[0] == '@'); });
  std::unique_ptr<cli::InputStream> stream;
  std::vector<std::string> files;
  size_t next_file = 0;
  if (shard.whole() && has_list) {
    stream = std::make_unique<cli::InputStream>(options.inputs, input_options);
  } else {
    const std::vector<std::string> all_files = cli::expand_inputs(options.inputs, input_options);
    if (all_files.empty()) fail(ErrorKind::Usage, kNoInputs);
    files = cli::select_shard(all_files, shard);
  }
  bool ended = false;  // the inputs are all read
  const auto next_input = [&](std::string& path) {
    if (stream) return !(ended = !stream->next(path));
    if (next_file == files.size()) return !(ended = true);
    path = files[next_file++];
    return true;
  };

  ResultWriter writer(options, config, out);
  writer.header();
  cli::BatchCounts counts;
  counts.total = files.size();
  size_t to_compute = 0;  // known beforehand only for a shard
  for (const std::string& file : files) to_compute += !out.contains(cli::input_key(file));
  cli::Progress progress(kProgram, to_compute, options.quiet, "images");
  ImageLimits limits;
  limits.max_pixels = options.max_pixels;
  std::vector<std::string> batch;
  std::vector<bool> computed;  // false: skipped (its record is in the journal), decoded only for --save-inputs
  bool any_input = !stream;  // an empty list of files was refused above; an empty shard is fine
  while (!cli::interrupted()) {
    // The next batch: up to --batch inputs without a record in the -o journal; from a stream,
    // only what has already arrived, so no answer waits for paths not yet written.
    batch.clear();
    computed.clear();
    size_t to_run = 0;
    std::string path;
    try {
      while (batch.size() < static_cast<size_t>(options.batch) && (to_run == 0 || !stream || stream->ready()) &&
             next_input(path)) {
        any_input = true;
        if (stream) ++counts.total;
        const std::string key = cli::input_key(path);
        const bool skip = out.contains(key);
        if (skip) counts.skip(out.failed_before(key));
        if (skip && !saved) continue;
        batch.push_back(path);
        computed.push_back(!skip);
        to_run += !skip;
      }
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Interrupted) throw;  // a signal while waiting for the next path
    }
    if (batch.empty()) break;
    // Decode the batch; a bad image is reported in its place and left out of the forward pass.
    std::vector<Image> images;
    std::vector<size_t> decoded;  // batch index of each of `images`
    std::vector<std::string> errors(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      try {
        images.push_back(load_image(batch[i], limits));
        decoded.push_back(i);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::Input && e.kind() != ErrorKind::Limit) throw;
        errors[i] = e.what();
      } catch (const std::bad_alloc&) {  // this image does not fit in memory; the next may
        errors[i] = batch[i] + ": out of memory while decoding the image";
      }
    }
    Tensor logits;
    try {
      if (!images.empty()) {
        Tensor pixels = preprocess_images(images, processor);  // [b, 3, H, W]
        if (saved) {
          saved->append(0, pixels);
          for (size_t i : decoded) saved_files.push_back(batch[i]);
          // Skipped inputs were decoded for the file only: the model sees the others.
          pixels = rows_of(pixels, decoded, computed);
        }
        if (pixels.dim(0) > 0) {
          logits = model.forward(pixels);  // [b, num_labels]
          require_finite_output(logits, "logits", model.weights_source());
        }
      }
    } catch (const Error& e) {
      // An input the model cannot take (e.g. the wrong size for learned positions) fails its batch.
      if (e.kind() != ErrorKind::Input) throw;
      for (size_t i = 0; i < batch.size(); ++i)
        if (errors[i].empty()) errors[i] = batch[i] + ": " + e.what();
    } catch (const std::exception& e) {
      if (cli::exit_code_for_exception(e) != cli::kExitLimit) throw;  // only running out of memory
      for (size_t i = 0; i < batch.size(); ++i)
        if (errors[i].empty()) errors[i] = batch[i] + ": out of memory in the forward pass (" + e.what() + ")";
    }
    size_t next = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!computed[i]) continue;  // skipped: counted when read
      if (!errors[i].empty()) {
        ++counts.failed;
        cli::report_input_error(kProgram, errors[i]);
        writer.error(batch[i], errors[i]);
        continue;
      }
      writer.result(batch[i], top_labels(logits.data<float>() + next++ * model.num_labels(), model.num_labels(), options.top_k));
      ++counts.done;
    }
    progress.advance(to_run);
  }
  if (stream && !ended) ++counts.total;  // stopped by a signal with the list not read to its end: at least one not done
  if (!any_input && !cli::interrupted()) fail(ErrorKind::Usage, kNoInputs);
  progress.finish();
  out.close(counts.complete());
  if (saved && counts.complete())
    saved->commit({{"tool", kProgram},
                   {"files", saved_files.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
                   {"layout", "pixel_values[i] is the image files[i] as the model sees it (after the image processor); "
                              "images that do not decode are left out"}});
  return cli::finish_batch(kProgram, counts, shard);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Classify images with a Perceiver IO ImageNet model (learned, Fourier or conv preprocessing).\n"
      "Inputs: image files (in order), directories (their images sorted by name; -r for sub-folders),\n"
      "@LIST (one path per line) or - (such a list on stdin). JPEG, PNG, BMP, GIF, TGA, PNM.\n"
      "Formats: text (aligned, for a terminal); tsv with header 'file rank id label p';\n"
      "jsonl: {\"file\", \"top\": [{\"id\", \"label\", \"p\"}]} or {\"file\", \"error\"} per input.\n"
      "With a text classifier (PerceiverForSequenceClassification) the inputs are text files, one\n"
      "document each (--lines: one per line; - is standard input), and records of lines carry \"line\".",
      kProgram};
  Options options;
  app.add_option("inputs", options.inputs,
                 "images, directories, @list files, or - for a list on stdin; with a text classifier: text files, "
                 "or none (or -) for stdin");
  app.add_option("-m,--model", options.model_dir, "model folder (config.json + model.safetensors or pytorch_model.bin)")
      ->envname("PERCEIVER_CLASSIFY_MODEL");
  app.add_flag("-r,--recursive", options.recursive, "descend into sub-folders of directories");
  app.add_flag("-0,--null", options.null_separated, "lists (- and @LIST) are NUL-separated, as find -print0 writes them");
  app.add_option("-k,--top-k", options.top_k, "labels per image (0 = all)")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("-f,--format", options.format, "output format")
      ->check(CLI::IsMember({"text", "tsv", "jsonl"}))
      ->capture_default_str();
  app.add_option("-b,--batch", options.batch, "images per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("-o,--output", options.output, "write results to this file (whole, at the end; not at all when interrupted) instead of stdout");
  cli::add_skip_existing_flag(app, options.skip_existing,
                              "with -o FILE --format jsonl: keep FILE's records, skip their inputs, append the rest "
                              "(resumes an interrupted run; without -o it does nothing)");
  cli::add_shard_option(app, options.shard);
  app.add_option("--max-pixels", options.max_pixels, "largest image accepted (width × height)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--save-inputs", options.save_inputs,
                 "also write what the model saw to this .safetensors file: pixel_values [N, 3, H, W] float32 of every "
                 "image that decodes, in input order (their names in the metadata; docs/images.md)");
  app.add_flag("--lines", options.lines, "text classifiers: every line of each input is a document (answered as it arrives)");
  app.add_flag("-q,--quiet", options.quiet, "no progress line on stderr");
  cli::add_model_options(app, options.model);
  if (int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  cli::install_interrupt_handlers();
  return cli::run_guarded(kProgram, [&] { return run(options); });
}
