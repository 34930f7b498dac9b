// perceiver::api::Model (include/perceiver/perceiver.h): the library's internals behind the
// installed header. Each call runs on the calling thread with the model's own thread count; the
// model's kernels were built with its own precision (kernels/runtime.h keeps both per thread).
#include <omp.h>

#include <filesystem>
#include <optional>
#include <variant>

#include "checkpoint/config.h"
#include "checkpoint/weights.h"
#include "common/error.h"
#include "kernels/runtime.h"
#include "media/image.h"
#include "media/image_processor.h"
#include "media/masked_text.h"
#include "media/video_frames.h"
#include "tasks/clip_autoencoder.h"
#include "tasks/flow_estimator.h"
#include "models/image_classifier.h"
#include "media/byte_tokenizer.h"
#include "tasks/mask_filler.h"
#include "models/masked_lm.h"
#include "models/text_classifier.h"
#include "tasks/top_labels.h"
#include "perceiver/perceiver.h"

namespace perceiver::api {

namespace {

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return "usage";
    case ErrorKind::ModelMissing: return "model-missing";
    case ErrorKind::ModelFormat: return "model-format";
    case ErrorKind::ModelMismatch: return "model-mismatch";
    case ErrorKind::ConfigInvalid: return "config";
    case ErrorKind::Input: return "input";
    case ErrorKind::Output: return "output";
    case ErrorKind::Limit: return "limit";
    case ErrorKind::Interrupted: return "interrupted";
    case ErrorKind::Internal: return "internal";
  }
  return "internal";
}

// Runs `body`, turning the library's errors (and std::bad_alloc) into api::Error.
template <typename Body>
auto translated(Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const perceiver::Error& e) {
    throw api::Error(kind_name(e.kind()), e.what());
  } catch (const std::bad_alloc&) {
    throw api::Error("limit", "out of memory");
  }
}

perceiver::Image to_internal(const api::Image& image, const char* what) {
  if (image.width < 1 || image.height < 1 || image.rgb.size() != static_cast<size_t>(image.width * image.height * 3))
    fail(ErrorKind::Usage, std::string(what) + ": an image of " + std::to_string(image.width) + "×" +
                               std::to_string(image.height) + " needs width × height × 3 bytes, it has " +
                               std::to_string(image.rgb.size()));
  return perceiver::Image{image.width, image.height, image.rgb};
}

api::Image to_public(perceiver::Image image) { return api::Image{image.width, image.height, std::move(image.rgb)}; }

}  // namespace

struct Model::State {
  PerceiverConfig config;
  int threads = 0;
  // Exactly one of these, by architecture.
  std::optional<MaskedLanguageModel> mlm;
  std::optional<ImageClassifier> classifier;
  std::optional<ImageProcessorConfig> processor;
  std::optional<FlowEstimator> flow;
  std::optional<ClipAutoencoder> autoencoder;
  std::optional<TextClassifier> text_classifier;

  // The calling thread runs this model's calls with its thread count (OpenMP's setting is per
  // thread), and gets its own back afterwards.
  struct Threads {
    int before;
    explicit Threads(int threads) : before(omp_get_max_threads()) {
      if (threads > 0) omp_set_num_threads(threads);
    }
    ~Threads() { omp_set_num_threads(before); }
    Threads(const Threads&) = delete;
    Threads& operator=(const Threads&) = delete;
  };
  std::string label_name(int64_t id) const {
    const auto found = config.id2label.find(id);
    return found == config.id2label.end() ? std::to_string(id) : found->second;
  }
  [[noreturn]] void wrong_task(const char* task) const {
    fail(ErrorKind::Usage, std::string(task) + " needs another model: this one is a " + config.architecture);
  }
};

Model::Model(const std::string& folder, const Settings& settings) {
  translated([&] {
    auto state = std::make_unique<State>();
    state->threads = settings.threads;
    state->config = load_config((std::filesystem::path(folder) / "config.json").string());
    const std::string& architecture = state->config.architecture;
    // The precision the kernels are built with: this thread's setting, for the time of the build.
    const kernels::Precision before = kernels::precision();
    kernels::set_precision(settings.bf16 ? kernels::Precision::BF16 : kernels::Precision::F32);
    struct Restore {
      kernels::Precision precision;
      ~Restore() { kernels::set_precision(precision); }
    } restore{before};
    const auto weights = open_model_weights(folder);
    if (architecture == "PerceiverForMaskedLM") {
      state->mlm.emplace(state->config, *weights);
    } else if (is_image_classifier(architecture)) {
      state->processor = load_image_processor_config(folder);
      state->classifier.emplace(state->config, *weights);
    } else if (architecture == "PerceiverForSequenceClassification") {
      state->text_classifier.emplace(state->config, *weights);
    } else if (architecture == "PerceiverForOpticalFlow") {
      state->flow.emplace(state->config, *weights);
    } else if (architecture == "PerceiverForMultimodalAutoencoding") {
      state->autoencoder.emplace(state->config, *weights);
    } else {
      fail(ErrorKind::ConfigInvalid, folder + ": holds a " + architecture +
                                         ", which the library API does not run (masked LM, image or text classifier, "
                                         "optical flow, multimodal autoencoder)");
    }
    weights->finish();
    state_ = std::move(state);
  });
}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

const std::string& Model::architecture() const { return state_->config.architecture; }

std::string Model::fill_masks(const std::string& text) const {
  return translated([&] {
    if (!state_->mlm) state_->wrong_task("fill_masks");
    const State::Threads threads(state_->threads);
    return perceiver::fill_masks(*state_->mlm, encode_masked_document(text), 1).text;
  });
}

std::vector<Label> Model::classify(const Image& image, int64_t top_k) const {
  return translated([&] {
    if (!state_->classifier) state_->wrong_task("classify");
    const State::Threads threads(state_->threads);
    const Tensor pixels = preprocess_images({to_internal(image, "classify")}, *state_->processor);  // [1, 3, H, W]
    const Tensor logits = state_->classifier->forward(pixels);  // [1, num_labels]
    std::vector<Label> labels;
    for (const LabelScore& score : top_labels(logits.data<float>(), state_->classifier->num_labels(), top_k))
      labels.push_back({score.id, state_->label_name(score.id), score.p});
    return labels;
  });
}

std::vector<Label> Model::classify_text(const std::string& text, int64_t top_k) const {
  return translated([&] {
    if (!state_->text_classifier) state_->wrong_task("classify_text");
    const State::Threads threads(state_->threads);
    const TextClassifier& model = *state_->text_classifier;
    // As perceiver-classify frames a batch: [CLS] bytes [SEP], padded to max_length with the mask.
    const size_t width = static_cast<size_t>(model.max_length());
    const tokenizer::PaddedBatch tokens = tokenizer::encode_padded({text}, width);
    Tensor ids = Tensor::zeros(DType::I64, {1, model.max_length()});   // [1, P]
    Tensor mask = Tensor::zeros(DType::I64, {1, model.max_length()});  // [1, P]
    std::copy_n(tokens.input_ids[0].begin(), width, ids.mutable_data<int64_t>());
    std::copy_n(tokens.attention_mask[0].begin(), width, mask.mutable_data<int64_t>());
    const Tensor logits = model.forward(ids, &mask);  // [1, num_labels]
    std::vector<Label> labels;
    for (const LabelScore& score : top_labels(logits.data<float>(), model.num_labels(), top_k))
      labels.push_back({score.id, state_->label_name(score.id), score.p});
    return labels;
  });
}

Flow Model::flow(const Image& first, const Image& second) const {
  return translated([&] {
    if (!state_->flow) state_->wrong_task("flow");
    if (first.width != second.width || first.height != second.height)
      fail(ErrorKind::Usage, "flow: the frames differ in size (" + std::to_string(first.width) + "×" + std::to_string(first.height) +
                                 " and " + std::to_string(second.width) + "×" + std::to_string(second.height) + ")");
    const State::Threads threads(state_->threads);
    FlowField field = state_->flow->estimate(to_internal(first, "flow"), to_internal(second, "flow"));
    return Flow{field.width, field.height, std::move(field.uv)};
  });
}

Reconstruction Model::autoencode(const std::vector<Image>& frames, const std::vector<float>& audio, int64_t top_k) const {
  return translated([&] {
    if (!state_->autoencoder) state_->wrong_task("autoencode");
    const State::Threads threads(state_->threads);
    const ClipAutoencoder& model = *state_->autoencoder;
    const ClipGeometry& g = model.geometry();
    // Windows: consecutive, non-overlapping; what does not fill a whole one is left out (as the tool).
    const int64_t windows = std::min(static_cast<int64_t>(frames.size()) / g.frames, static_cast<int64_t>(audio.size()) / g.samples);
    if (windows == 0)
      fail(ErrorKind::Input, "autoencode: the clip is shorter than one model window (" + std::to_string(g.frames) +
                                 " frames and " + std::to_string(g.samples) + " audio samples)");
    Reconstruction result;
    result.windows = windows;
    const ClipResult clip = reconstruct_clip(
        model, windows, [&](int64_t index) { return to_internal(frames[static_cast<size_t>(index)], "autoencode"); }, audio,
        8192, [&](const ClipWindow& window) {
          for (const perceiver::Image& frame : *window.frames) result.frames.push_back(to_public(frame));
        });
    result.audio = clip.audio;
    const std::vector<double>& clip_p = clip.label_probabilities;
    const ErrorTotals &video_error = clip.video_error, &audio_error = clip.audio_error;
    for (const LabelScore& score : top_labels(clip_p, top_k))
      result.labels.push_back({score.id, state_->label_name(score.id), score.p});
    result.video_psnr_db = psnr_db(video_error.mse());
    result.audio_psnr_db = psnr_db(audio_error.mse());
    return result;
  });
}

Image load_image(const std::string& path) {
  return translated([&] { return to_public(perceiver::load_image(path)); });
}

}  // namespace perceiver::api
