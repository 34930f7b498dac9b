// perceiver-train: train or fine-tune Perceiver IO models on the CPU (docs/training.md).
//   perceiver-train mlm       byte-level masked language modelling on a folder of UTF-8 text
//   perceiver-train classify  image classification (labelled folder tree or MNIST-style IDX)
//   perceiver-train eval      held-out quality of a model folder through the inference library
//   perceiver-train plot      a metrics.jsonl as an SVG learning curve
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/app_options.h"
#include "cli/exit_codes.h"
#include "cli/interrupt.h"
#include "common/json.h"
#include "training/loop/image_classification_task.h"
#include "training/loop/learning_curve.h"
#include "training/loop/masked_lm_task.h"
#include "training/loop/model_evaluation.h"
#include "training/model/widen.h"

using namespace perceiver;
using namespace perceiver::training;

namespace {

constexpr const char* kProgram = "perceiver-train";

// Model size flags. The defaults are a small model that trains on an ordinary CPU (each task
// sets its own below and --help shows them); with --from or --resume the model's own config.json
// decides and these flags must not be given.
struct ModelShapeOptions {
  int64_t num_latents = 0, d_latents = 0, d_model = 0, layers = 0, blocks = 1, self_heads = 0, cross_heads = 0;
  int64_t qk_channels = 0, widening = 0, window = 0, image_size = 0;
};

// The byte MLM shipped in models/byte-mlm (1.1 M parameters, ~55 windows/s on two cores).
ModelShapeOptions default_text_shape() {
  ModelShapeOptions shape;
  shape.num_latents = 128, shape.d_latents = 128, shape.d_model = 128, shape.layers = 6;
  shape.self_heads = 8, shape.cross_heads = 4, shape.widening = 2, shape.window = 128;
  return shape;
}

// The image classifier shipped in models/fashion-mnist (0.7 M parameters); image_size 0 takes
// the training images' side.
ModelShapeOptions default_image_shape() {
  ModelShapeOptions shape;
  shape.num_latents = 64, shape.d_latents = 128, shape.layers = 4, shape.self_heads = 4, shape.cross_heads = 4;
  shape.qk_channels = 64, shape.widening = 2;
  return shape;
}

struct LoopOptions {
  RunSettings run;
  std::vector<std::string> shape_flags_given;  // shape flags on the command line
  int threads = 0;
  std::string plot;
  std::string from;
};

void add_shape_options(CLI::App& app, ModelShapeOptions& shape, bool text) {
  std::vector<CLI::Option*> options = {
      app.add_option("--num-latents", shape.num_latents, "N, latents"),
      app.add_option("--d-latents", shape.d_latents, "D, latent width"),
      app.add_option("--layers", shape.layers, "num_self_attends_per_block"),
      app.add_option("--blocks", shape.blocks, "num_blocks (repetitions sharing weights)"),
      app.add_option("--self-heads", shape.self_heads, "num_self_attention_heads"),
      app.add_option("--cross-heads", shape.cross_heads, "num_cross_attention_heads"),
      app.add_option("--qk-channels", shape.qk_channels, "qk_channels, 0: d_latents (v_channels is then d_latents)"),
      app.add_option("--widening", shape.widening, "self_attention_widening_factor")};
  if (text) {
    options.push_back(app.add_option("--d-model", shape.d_model, "C, byte embedding width"));
    options.push_back(app.add_option("--window", shape.window, "max_position_embeddings: tokens per window, [CLS] and [SEP] included"));
  } else {
    options.push_back(app.add_option("--image-size", shape.image_size, "image side the model sees, 0: the training images' side"));
  }
  for (CLI::Option* option : options) option->capture_default_str()->check(CLI::NonNegativeNumber);
}

// The shape flags the user gave (for the refusal with --from or --resume).
std::vector<std::string> given_shape_flags(const CLI::App& app) {
  std::vector<std::string> given;
  for (const char* name : {"--num-latents", "--d-latents", "--layers", "--blocks", "--self-heads", "--cross-heads",
                           "--qk-channels", "--widening", "--d-model", "--window", "--image-size"})
    if (app.get_option_no_throw(name) && app.get_option_no_throw(name)->count() > 0) given.push_back(name);
  return given;
}

void apply_shape(const ModelShapeOptions& shape, PerceiverConfig& config) {
  auto set = [](int64_t value, int64_t& field) {
    if (value > 0) field = value;
  };
  set(shape.num_latents, config.num_latents);
  set(shape.d_latents, config.d_latents);
  set(shape.d_model, config.d_model);
  set(shape.layers, config.num_self_attends_per_block);
  set(shape.blocks, config.num_blocks);
  set(shape.self_heads, config.num_self_attention_heads);
  set(shape.cross_heads, config.num_cross_attention_heads);
  set(shape.widening, config.self_attention_widening_factor);
  set(shape.window, config.max_position_embeddings);
  set(shape.image_size, config.image_size);
  if (shape.qk_channels > 0) {
    config.qk_channels = shape.qk_channels;
    config.v_channels = config.d_latents;
  }
}

void add_loop_options(CLI::App& app, LoopOptions& loop) {
  RunSettings& run = loop.run;
  app.add_option("-o,--output", run.output_dir, "model folder to write (checkpoints, metrics.jsonl)")->required();
  app.add_option("--from", loop.from, "start from this model folder (fine-tuning) instead of random weights");
  app.add_flag("--resume", run.resume, "continue the run saved in --output (same flags)");
  app.add_flag("--overwrite", run.overwrite, "write into a non-empty --output (replacing its model and metrics)")
      ->excludes("--resume");
  app.add_option("--steps", run.steps, "optimizer steps of the whole schedule")->capture_default_str();
  app.add_option("--stop-after", run.stop_after, "stop after this many steps of this invocation (a checkpoint is saved; 0: run to --steps)")->capture_default_str();
  app.add_option("--lr", run.optimizer.learning_rate, "peak learning rate")->capture_default_str();
  app.add_option("--min-lr", run.optimizer.min_learning_rate, "learning rate at the end of the cosine")->capture_default_str();
  app.add_option("--warmup", run.optimizer.warmup_steps, "linear warm-up steps")->capture_default_str();
  app.add_option("--weight-decay", run.optimizer.weight_decay, "AdamW decay of matrices")->capture_default_str();
  app.add_option("--clip", run.optimizer.clip_norm, "clip gradients to this global norm (0: off)")->capture_default_str();
  app.add_option("--seed", run.seed, "initial weights, batch order and masks")->capture_default_str();
  app.add_option("--log-every", run.log_every, "steps per progress line and metrics line")->capture_default_str();
  app.add_option("--eval-every", run.eval_every, "steps between held-out evaluations (0: at the end)")->capture_default_str();
  app.add_option("--save-every", run.save_every, "steps between checkpoints (0: at the end)")->capture_default_str();
  app.add_flag("-q,--quiet", run.quiet, "no progress on stderr");
  app.add_option("--plot", loop.plot, "also write the learning curve to this SVG at the end");
  cli::add_threads_option(app, loop.threads);
}

// Every flag a resumed run must share with the run it continues.
std::map<std::string, std::string> describe_run(const std::string& command, const PerceiverConfig& config,
                                                const LoopOptions& loop, const ModelShapeOptions& shape,
                                                std::map<std::string, std::string> task) {
  auto number = [](double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);
    return std::string(text);
  };
  const OptimizerSettings& optimizer = loop.run.optimizer;
  task.insert({{"command", command},
               {"architecture", config.architecture},
               {"--steps", std::to_string(loop.run.steps)},
               {"--seed", std::to_string(loop.run.seed)},
               {"--lr", number(optimizer.learning_rate)},
               {"--min-lr", number(optimizer.min_learning_rate)},
               {"--warmup", std::to_string(optimizer.warmup_steps)},
               {"--weight-decay", number(optimizer.weight_decay)},
               {"--clip", number(optimizer.clip_norm)},
               {"--from", loop.from}});
  if (loop.from.empty())
    task.insert({{"--num-latents", std::to_string(shape.num_latents)}, {"--d-latents", std::to_string(shape.d_latents)},
                 {"--layers", std::to_string(shape.layers)}, {"--blocks", std::to_string(shape.blocks)},
                 {"--self-heads", std::to_string(shape.self_heads)}, {"--cross-heads", std::to_string(shape.cross_heads)},
                 {"--qk-channels", std::to_string(shape.qk_channels)}, {"--widening", std::to_string(shape.widening)},
                 {"--d-model", std::to_string(shape.d_model)}, {"--window", std::to_string(shape.window)},
                 {"--image-size", std::to_string(shape.image_size)}});
  return task;
}

// Checks what can be checked before any data is read: the output folder, the --plot file, and no
// shape flag where the model's own config.json decides.
void check_before_work(const LoopOptions& loop) {
  check_output_dir(loop.run);
  if (!loop.plot.empty()) check_learning_curve_path(loop.plot);
  if (!loop.from.empty() && !loop.shape_flags_given.empty())
    fail(ErrorKind::Usage, loop.shape_flags_given.front() + ": the model's shape comes from " + loop.from +
                               "/config.json with --from");
}

PerceiverConfig starting_config(const LoopOptions& loop, const std::string& architecture) {
  if (!loop.from.empty()) return load_config(loop.from + "/config.json");
  if (loop.run.resume) return load_config(loop.run.output_dir + "/config.json");
  PerceiverConfig config;
  config.architecture = architecture;
  return config;
}

int finish_run(TrainingTask& task, const LoopOptions& loop) {
  const RunSummary summary = run_training(task, loop.run);
  nlohmann::json out = {{"output", loop.run.output_dir},
                        {"steps_done", summary.last_step},
                        {"seconds", summary.seconds},
                        {"train_loss", summary.last_train_loss}};
  if (summary.last_evaluation.count) {
    out["eval_loss"] = summary.last_evaluation.loss;
    out["eval_accuracy"] = summary.last_evaluation.accuracy;
    for (const auto& [name, value] : summary.last_evaluation.extra) out["eval_" + name] = value;
  }
  if (!loop.plot.empty())
    write_learning_curve_svg(loop.run.output_dir + "/metrics.jsonl", loop.plot, loop.run.output_dir);
  std::cout << out.dump() << std::endl;
  return cli::interrupted() ? cli::kExitInterrupted : cli::kExitOk;
}

// --- mlm -------------------------------------------------------------------------------------

struct MlmOptions {
  std::string data;
  int64_t batch = 16, eval_windows = 256, held_out_every = 20, max_bytes = 0;
  std::string init = "auto", masking = "mixture";
  ModelShapeOptions shape = default_text_shape();
  LoopOptions loop;
};

int run_mlm(MlmOptions& options) {
  check_before_work(options.loop);
  const MaskingRule masking = parse_masking_rule(options.masking);
  kernels::set_num_threads(options.loop.threads);
  PerceiverConfig config = starting_config(options.loop, "PerceiverForMaskedLM");
  if (config.architecture != "PerceiverForMaskedLM")
    fail(ErrorKind::ConfigInvalid, options.loop.from + ": not a masked language model (" + config.architecture + ")");
  if (options.loop.from.empty() && !options.loop.run.resume) apply_shape(options.shape, config);
  check_config_bounds(config, "the model shape");
  TextCorpus corpus = load_text_corpus(options.data, options.held_out_every, options.max_bytes);
  if (!options.loop.run.quiet) std::fprintf(stderr, "%s: %s\n", options.data.c_str(), corpus.describe().c_str());
  MaskedLmTaskSettings settings;
  settings.config = config;
  settings.batch_size = options.batch;
  settings.seed = options.loop.run.seed;
  settings.eval_windows = options.eval_windows;
  settings.init_from = options.loop.from;
  settings.masking = masking;
  const bool aligned_shape = config.num_latents == config.max_position_embeddings && config.d_latents == config.d_model;
  settings.positional_init = options.loop.from.empty() && (options.init == "positional" || (options.init == "auto" && aligned_shape));
  MaskedLmTask task(settings, std::move(corpus));
  if (!options.loop.run.quiet)
    std::fprintf(stderr, "model: %lld parameters, window %lld tokens\n",
                 static_cast<long long>(task.parameters().total_numel()),
                 static_cast<long long>(config.max_position_embeddings));
  options.loop.run.description =
      describe_run("mlm", config, options.loop, options.shape,
                   {{"--data", options.data}, {"--batch", std::to_string(options.batch)}, {"--masking", options.masking},
                    {"--eval-windows", std::to_string(options.eval_windows)},
                    {"--held-out-every", std::to_string(options.held_out_every)},
                    {"--max-bytes", std::to_string(options.max_bytes)}, {"--init", options.init}});
  return finish_run(task, options.loop);
}

// --- classify --------------------------------------------------------------------------------

struct ClassifyOptions {
  std::string data, test_data, train_images, train_labels, test_images, test_labels, label_names;
  std::string preprocessor = "fourier";
  std::vector<float> mean, std;
  int64_t batch = 64, eval_images = 0, limit = 0;
  bool flip = false;
  ModelShapeOptions shape = default_image_shape();
  LoopOptions loop;
};

ImageDataset load_dataset(const std::string& folder, const std::string& images, const std::string& labels,
                          int64_t limit, const char* what) {
  if (!folder.empty()) {
    ImageDataset data = load_image_folder(folder);
    for (const std::string& message : data.skipped) std::fprintf(stderr, "%s: skipped %s\n", kProgram, message.c_str());
    return data;
  }
  if (images.empty() || labels.empty())
    fail(ErrorKind::Usage, std::string("give the ") + what + " data as a folder tree or as IDX images and labels");
  return load_idx(images, labels, limit);
}

std::string processor_json(const ImageProcessorConfig& processor) {
  nlohmann::json json = {{"do_center_crop", processor.do_center_crop}, {"crop_size", processor.crop_size},
                         {"do_resize", processor.do_resize},          {"size", processor.size},
                         {"do_rescale", processor.do_rescale},        {"rescale_factor", processor.rescale_factor},
                         {"do_normalize", processor.do_normalize},    {"resample", processor.resample},
                         {"image_mean", processor.image_mean},        {"image_std", processor.image_std},
                         {"image_processor_type", "PerceiverImageProcessor"}};
  return json.dump(2) + "\n";
}

std::vector<std::string> read_label_names(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(ErrorKind::Input, path + ": cannot open the label names");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) names.push_back(line);
  return names;
}

int run_classify(ClassifyOptions& options) {
  check_before_work(options.loop);
  kernels::set_num_threads(options.loop.threads);
  const std::string architecture = options.preprocessor == "learned" ? "PerceiverForImageClassificationLearned"
                                                                     : "PerceiverForImageClassificationFourier";
  PerceiverConfig config = starting_config(options.loop, architecture);
  ImageDataset train = load_dataset(options.data, options.train_images, options.train_labels, options.limit, "training");
  ImageDataset test = load_dataset(options.test_data, options.test_images, options.test_labels, 0, "test");
  std::vector<std::string> names = train.class_names;
  if (!options.label_names.empty()) names = read_label_names(options.label_names);
  if (names.size() < train.class_names.size())
    fail(ErrorKind::Input, options.label_names + ": " + std::to_string(names.size()) + " names for " +
                               std::to_string(train.class_names.size()) + " classes");

  ImageProcessorConfig processor;
  const bool fresh = options.loop.from.empty() && !options.loop.run.resume;
  if (fresh) {
    apply_shape(options.shape, config);
    if (options.shape.image_size == 0 && train.height > 0 && train.height == train.width) config.image_size = train.height;
    check_config_bounds(config, "the model shape");
    processor.size = processor.crop_size = config.image_size;
    if (!options.mean.empty()) processor.image_mean = {options.mean[0], options.mean[options.mean.size() > 1 ? 1 : 0], options.mean.back()};
    if (!options.std.empty()) processor.image_std = {options.std[0], options.std[options.std.size() > 1 ? 1 : 0], options.std.back()};
  } else {
    processor = load_image_processor_config(options.loop.run.resume ? options.loop.run.output_dir : options.loop.from);
  }
  config.id2label.clear();
  for (size_t i = 0; i < names.size(); ++i) config.id2label[static_cast<int64_t>(i)] = names[i];
  if (!options.loop.from.empty() && config.architecture != architecture && options.preprocessor != "fourier")
    fail(ErrorKind::Usage, "--preprocessor does not match the --from model's " + config.architecture);

  ImageClassificationTaskSettings settings;
  settings.config = config;
  settings.processor = processor;
  settings.processor_json = processor_json(processor);
  settings.batch_size = options.batch;
  settings.seed = options.loop.run.seed;
  settings.eval_images = options.eval_images;
  settings.flip = options.flip;
  settings.init_from = options.loop.from;
  if (!options.loop.run.quiet)
    std::fprintf(stderr, "%zu training images, %zu test images, %zu classes, %s\n", train.images.size(),
                 test.images.size(), names.size(), config.architecture.c_str());
  ImageClassificationTask task(settings, std::move(train), std::move(test));
  if (!options.loop.run.quiet)
    std::fprintf(stderr, "model: %lld parameters\n", static_cast<long long>(task.parameters().total_numel()));
  auto list = [](const std::vector<float>& values) {
    std::string text;
    for (float value : values) text += (text.empty() ? "" : ",") + std::to_string(value);
    return text;
  };
  options.loop.run.description = describe_run(
      "classify", config, options.loop, options.shape,
      {{"--data", options.data}, {"--test-data", options.test_data}, {"--train-images", options.train_images},
       {"--train-labels", options.train_labels}, {"--test-images", options.test_images},
       {"--test-labels", options.test_labels}, {"--label-names", options.label_names},
       {"--preprocessor", options.preprocessor}, {"--mean", list(options.mean)}, {"--std", list(options.std)},
       {"--batch", std::to_string(options.batch)}, {"--eval-images", std::to_string(options.eval_images)},
       {"--limit", std::to_string(options.limit)}, {"--flip", options.flip ? "true" : "false"}});
  return finish_run(task, options.loop);
}

// --- eval, plot ------------------------------------------------------------------------------

struct EvalOptions {
  std::string task, model, data, images, labels, text, rule = "mixture", decode = "parallel";
  double fraction = 0.15;
  int64_t windows = 0, held_out_every = 20, limit = 0;
  int threads = 0;
};

int run_eval(const EvalOptions& options) {
  kernels::set_num_threads(options.threads);
  EvaluationResult result;
  if (options.task == "mlm" && !options.text.empty()) {
    result = evaluate_mask_filling(options.model, read_line_documents(options.text), parse_masking_rule(options.rule),
                                   options.fraction, options.decode == "parallel" ? Decoding::Parallel : Decoding::Iterative);
  } else if (options.task == "mlm") {
    if (options.data.empty())
      fail(ErrorKind::Usage, "eval mlm needs --text (documents, one per line) or --data (a training text folder)");
    result = evaluate_masked_lm(options.model, options.data, options.windows, options.held_out_every,
                                parse_masking_rule(options.rule));
  } else {
    const ImageDataset data = load_dataset(options.data, options.images, options.labels, options.limit, "evaluation");
    result = evaluate_image_classifier(options.model, data);
  }
  nlohmann::json out = {{"model", options.model}, {"task", options.task}, {"count", result.count},
                        {"loss", result.loss},    {"accuracy", result.accuracy}};
  if (options.task == "mlm") out["rule"] = options.rule, out["fraction"] = options.fraction;
  if (options.task == "mlm" && !options.text.empty()) out["decode"] = options.decode;
  for (const auto& [name, value] : result.extra) out[name] = value;
  std::cout << out.dump() << std::endl;
  return cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train or fine-tune Perceiver IO models on the CPU; evaluate and plot (docs/training.md).", kProgram};
  app.require_subcommand(1);

  MlmOptions mlm;
  CLI::App* mlm_app = app.add_subcommand("mlm", "byte-level masked language modelling on a folder of UTF-8 text");
  mlm_app->add_option("--data", mlm.data, "folder of text files (searched recursively)")->required();
  mlm_app->add_option("--batch", mlm.batch, "windows per step")->check(CLI::PositiveNumber)->capture_default_str();
  mlm_app->add_option("--eval-windows", mlm.eval_windows, "held-out windows per evaluation (0: all)")->capture_default_str();
  mlm_app->add_option("--held-out-every", mlm.held_out_every, "every N-th file is held out")->check(CLI::Range(2, 1000000))->capture_default_str();
  mlm_app->add_option("--max-bytes", mlm.max_bytes, "read at most this much text (0: all)")->capture_default_str();
  mlm_app->add_option("--init", mlm.init,
                      "random, or positional: latent i starts attending to byte i and decoder query i to latent i "
                      "(needs --num-latents = --window, --d-latents = --d-model; docs/training.md); auto: "
                      "positional where the shape allows it")
      ->check(CLI::IsMember({"auto", "random", "positional"}))
      ->capture_default_str();
  mlm_app->add_option("--masking", mlm.masking,
                      "masking rule of the training windows: mixture, words, spaced-words, spans, letters, bytes "
                      "(docs/training.md)")
      ->capture_default_str();
  add_shape_options(*mlm_app, mlm.shape, true);
  add_loop_options(*mlm_app, mlm.loop);

  ClassifyOptions classify;
  CLI::App* classify_app = app.add_subcommand("classify", "image classification from a folder tree or IDX files");
  classify_app->add_option("--data", classify.data, "training images: one sub-folder per class");
  classify_app->add_option("--test-data", classify.test_data, "test images: one sub-folder per class");
  classify_app->add_option("--train-images", classify.train_images, "IDX images (e.g. train-images-idx3-ubyte.gz)");
  classify_app->add_option("--train-labels", classify.train_labels, "IDX labels");
  classify_app->add_option("--test-images", classify.test_images, "IDX test images");
  classify_app->add_option("--test-labels", classify.test_labels, "IDX test labels");
  classify_app->add_option("--label-names", classify.label_names, "text file, one class name per line (id order)");
  classify_app->add_option("--preprocessor", classify.preprocessor, "learned or fourier position features")
      ->check(CLI::IsMember({"learned", "fourier"}))
      ->capture_default_str();
  classify_app->add_option("--mean", classify.mean, "normalisation mean per channel (1 or 3 values)");
  classify_app->add_option("--std", classify.std, "normalisation std per channel (1 or 3 values)");
  classify_app->add_option("--batch", classify.batch, "images per step")->check(CLI::PositiveNumber)->capture_default_str();
  classify_app->add_option("--eval-images", classify.eval_images, "test images per evaluation (0: all)")->capture_default_str();
  classify_app->add_option("--limit", classify.limit, "use only the first N training images (IDX; 0: all)")->capture_default_str();
  classify_app->add_flag("--flip", classify.flip, "random horizontal flips of training images");
  add_shape_options(*classify_app, classify.shape, false);
  add_loop_options(*classify_app, classify.loop);

  EvalOptions eval;
  CLI::App* eval_app = app.add_subcommand("eval", "held-out quality of a model folder, through the inference library; one JSON line");
  eval_app->add_option("task", eval.task, "mlm or classify")->required()->check(CLI::IsMember({"mlm", "classify"}));
  eval_app->add_option("-m,--model", eval.model, "model folder")->required();
  eval_app->add_option("--data", eval.data, "mlm: the text folder (its held-out files); classify: a class folder tree");
  eval_app->add_option("--images", eval.images, "classify: IDX images");
  eval_app->add_option("--labels", eval.labels, "classify: IDX labels");
  eval_app->add_option("--text", eval.text, "mlm: held-out documents, one per line, filled through perceiver-mlm's code");
  eval_app->add_option("--rule", eval.rule, "mlm: masking rule (letters, space-words, mixture, ...; docs/training.md)")
      ->capture_default_str();
  eval_app->add_option("--fraction", eval.fraction, "mlm: mask fraction of the rule")->capture_default_str();
  eval_app->add_option("--decode", eval.decode, "mlm --text: iterative or parallel, as perceiver-mlm's --decode")
      ->check(CLI::IsMember({"iterative", "parallel"}))
      ->capture_default_str();
  eval_app->add_option("--windows", eval.windows, "mlm: held-out windows scored (0: all)");
  eval_app->add_option("--held-out-every", eval.held_out_every, "mlm: as in training")->capture_default_str();
  eval_app->add_option("--limit", eval.limit, "classify: first N IDX images only");
  cli::add_threads_option(*eval_app, eval.threads);

  std::string widen_from, widen_to;
  CLI::App* widen_app = app.add_subcommand(
      "widen", "a byte MLM twice as wide that computes the same (to train further from; docs/training.md)");
  widen_app->add_option("-m,--model", widen_from, "the PerceiverForMaskedLM folder to widen")->required();
  widen_app->add_option("-o,--output", widen_to, "the folder to write (must not exist or be empty)")->required();

  std::string metrics, png, title;
  CLI::App* plot_app = app.add_subcommand("plot", "turn a metrics.jsonl into an SVG learning curve");
  plot_app->add_option("metrics", metrics, "metrics.jsonl of a run")->required();
  plot_app->add_option("-o,--output", png, "SVG to write")->required();
  plot_app->add_option("--title", title, "title above the plots");
  bool plot_quiet = false;
  plot_app->add_flag("-q,--quiet", plot_quiet, "nothing on stderr (plot prints nothing anyway)");

  if (const int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  mlm.loop.shape_flags_given = given_shape_flags(*mlm_app);
  classify.loop.shape_flags_given = given_shape_flags(*classify_app);
  cli::install_interrupt_handlers();
  return cli::run_guarded(kProgram, [&] {
    if (*mlm_app) return run_mlm(mlm);
    if (*classify_app) return run_classify(classify);
    if (*eval_app) return run_eval(eval);
    if (*widen_app) {
      RunSettings target;
      target.output_dir = widen_to;
      check_output_dir(target);
      widen_masked_lm(widen_from, widen_to);
      return 0;
    }
    write_learning_curve_svg(metrics, png, title.empty() ? metrics : title);
    return 0;
  });
}
