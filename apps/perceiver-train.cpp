// perceiver-train: train or fine-tune Perceiver IO models on the CPU (docs/training.md).
//   perceiver-train mlm       byte-level masked language modelling on a folder of UTF-8 text
//   perceiver-train classify  image classification (labelled folder tree or MNIST-style IDX)
//   perceiver-train eval      held-out quality of a model folder through the inference library
//   perceiver-train plot      a metrics.jsonl as a PNG learning curve
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
#include "training/image_classification_task.h"
#include "training/learning_curve.h"
#include "training/masked_lm_task.h"
#include "training/model_evaluation.h"

using namespace perceiver;
using namespace perceiver::training;

namespace {

constexpr const char* kProgram = "perceiver-train";

// Model size flags; a value of 0 keeps the architecture's default (or the --from model's).
struct ModelShapeOptions {
  int64_t num_latents = 0, d_latents = 0, d_model = 0, layers = 0, blocks = 0, self_heads = 0, cross_heads = 0;
  int64_t qk_channels = 0, widening = 0, window = 0, image_size = 0;
};

struct LoopOptions {
  RunSettings run;
  int threads = 0;
  std::string plot;
  std::string from;
};

void add_shape_options(CLI::App& app, ModelShapeOptions& shape, bool text) {
  app.add_option("--num-latents", shape.num_latents, "N, latents");
  app.add_option("--d-latents", shape.d_latents, "D, latent width");
  app.add_option("--layers", shape.layers, "num_self_attends_per_block");
  app.add_option("--blocks", shape.blocks, "num_blocks (repetitions sharing weights)");
  app.add_option("--self-heads", shape.self_heads, "num_self_attention_heads");
  app.add_option("--cross-heads", shape.cross_heads, "num_cross_attention_heads");
  app.add_option("--qk-channels", shape.qk_channels, "qk_channels (v_channels is then d_latents)");
  app.add_option("--widening", shape.widening, "self_attention_widening_factor");
  if (text) {
    app.add_option("--d-model", shape.d_model, "C, byte embedding width");
    app.add_option("--window", shape.window, "max_position_embeddings: tokens per window, [CLS] and [SEP] included");
  } else {
    app.add_option("--image-size", shape.image_size, "image side the model sees (the processor resizes to it)");
  }
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
  app.add_option("--steps", run.steps, "optimizer steps of the whole schedule")->capture_default_str();
  app.add_option("--stop-after", run.stop_after, "stop after this many steps of this invocation (a checkpoint is saved)");
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
  app.add_option("--plot", loop.plot, "also write the learning curve to this PNG at the end");
  cli::add_threads_option(app, loop.threads);
}

// Settings a resumed run must share with the run it continues.
std::map<std::string, std::string> describe_run(const std::string& command, const PerceiverConfig& config,
                                                const LoopOptions& loop) {
  return {{"command", command}, {"architecture", config.architecture}, {"steps", std::to_string(loop.run.steps)}};
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
    write_learning_curve_png(loop.run.output_dir + "/metrics.jsonl", loop.plot, loop.run.output_dir);
  std::cout << out.dump() << std::endl;
  return cli::interrupted() ? cli::kExitInterrupted : cli::kExitOk;
}

// --- mlm -------------------------------------------------------------------------------------

struct MlmOptions {
  std::string data;
  int64_t batch = 16, eval_windows = 256, held_out_every = 20, max_bytes = 0;
  std::string init = "random";
  ModelShapeOptions shape;
  LoopOptions loop;
};

int run_mlm(MlmOptions& options) {
  kernels::set_num_threads(options.loop.threads);
  PerceiverConfig config = starting_config(options.loop, "PerceiverForMaskedLM");
  if (config.architecture != "PerceiverForMaskedLM")
    fail(ErrorKind::ConfigInvalid, options.loop.from + ": not a masked language model (" + config.architecture + ")");
  if (options.loop.from.empty() && !options.loop.run.resume) apply_shape(options.shape, config);
  TextCorpus corpus = load_text_corpus(options.data, options.held_out_every, options.max_bytes);
  if (!options.loop.run.quiet) std::fprintf(stderr, "%s: %s\n", options.data.c_str(), corpus.describe().c_str());
  MaskedLmTaskSettings settings;
  settings.config = config;
  settings.batch_size = options.batch;
  settings.seed = options.loop.run.seed;
  settings.eval_windows = options.eval_windows;
  settings.init_from = options.loop.from;
  settings.positional_init = options.init == "positional" && options.loop.from.empty();
  MaskedLmTask task(settings, std::move(corpus));
  if (!options.loop.run.quiet)
    std::fprintf(stderr, "model: %lld parameters, window %lld tokens\n",
                 static_cast<long long>(task.parameters().total_numel()),
                 static_cast<long long>(config.max_position_embeddings));
  options.loop.run.description = describe_run("mlm", config, options.loop);
  return finish_run(task, options.loop);
}

// --- classify --------------------------------------------------------------------------------

struct ClassifyOptions {
  std::string data, test_data, train_images, train_labels, test_images, test_labels, label_names;
  std::string preprocessor = "fourier";
  std::vector<float> mean, std;
  int64_t batch = 64, eval_images = 0, limit = 0;
  bool flip = false;
  ModelShapeOptions shape;
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
  options.loop.run.description = describe_run("classify", config, options.loop);
  return finish_run(task, options.loop);
}

// --- eval, plot ------------------------------------------------------------------------------

struct EvalOptions {
  std::string task, model, data, images, labels;
  int64_t windows = 0, held_out_every = 20, limit = 0;
  int threads = 0;
};

int run_eval(const EvalOptions& options) {
  kernels::set_num_threads(options.threads);
  EvaluationResult result;
  if (options.task == "mlm") {
    if (options.data.empty()) fail(ErrorKind::Usage, "eval mlm needs --data (the text folder the model was trained on)");
    result = evaluate_masked_lm(options.model, options.data, options.windows, options.held_out_every);
  } else {
    const ImageDataset data = load_dataset(options.data, options.images, options.labels, options.limit, "evaluation");
    result = evaluate_image_classifier(options.model, data);
  }
  nlohmann::json out = {{"model", options.model}, {"task", options.task}, {"count", result.count},
                        {"loss", result.loss},    {"accuracy", result.accuracy}};
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
  mlm_app->add_option("--max-bytes", mlm.max_bytes, "read at most this much text (0: all)");
  mlm_app->add_option("--init", mlm.init,
                      "random, or positional: latent i starts attending to byte i and decoder query i to latent i "
                      "(needs --num-latents = --window, --d-latents = --d-model; docs/training.md)")
      ->check(CLI::IsMember({"random", "positional"}))
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
  classify_app->add_option("--eval-images", classify.eval_images, "test images per evaluation (0: all)");
  classify_app->add_option("--limit", classify.limit, "use only the first N training images (IDX)");
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
  eval_app->add_option("--windows", eval.windows, "mlm: held-out windows scored (0: all)");
  eval_app->add_option("--held-out-every", eval.held_out_every, "mlm: as in training")->capture_default_str();
  eval_app->add_option("--limit", eval.limit, "classify: first N IDX images only");
  cli::add_threads_option(*eval_app, eval.threads);

  std::string metrics, png, title;
  CLI::App* plot_app = app.add_subcommand("plot", "turn a metrics.jsonl into a PNG learning curve");
  plot_app->add_option("metrics", metrics, "metrics.jsonl of a run")->required();
  plot_app->add_option("-o,--output", png, "PNG to write")->required();
  plot_app->add_option("--title", title, "title above the plots");

  if (const int code = cli::parse_arguments(app, argc, argv); code >= 0) return code;
  cli::install_interrupt_handlers();
  return cli::run_guarded(kProgram, [&] {
    if (*mlm_app) return run_mlm(mlm);
    if (*classify_app) return run_classify(classify);
    if (*eval_app) return run_eval(eval);
    write_learning_curve_png(metrics, png, title.empty() ? metrics : title);
    return 0;
  });
}
