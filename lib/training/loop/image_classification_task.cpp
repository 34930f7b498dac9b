#include "training/loop/image_classification_task.h"

#include <numeric>

#include "common/random.h"
#include "core/tensor_names.h"
#include "training/model/initialization.h"
#include "training/loop/training_checkpoint.h"

namespace perceiver::training {

namespace {
constexpr int64_t kEvaluationBatch = 100;

bool is_classification_head(const std::string& name) {
  return name.rfind(names::final_layer(names::kWrappedDecoder) + ".", 0) == 0;
}

Image flipped(const Image& image) {
  Image out = image;
  for (int64_t y = 0; y < image.height; ++y)
    for (int64_t x = 0; x < image.width; ++x)
      for (int c = 0; c < 3; ++c)
        out.rgb[(y * image.width + x) * 3 + c] = image.rgb[(y * image.width + image.width - 1 - x) * 3 + c];
  return out;
}
}  // namespace

std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(count));
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 random(mix_seed(seed, static_cast<uint64_t>(epoch)));
  for (int64_t i = count - 1; i > 0; --i) std::swap(order[i], order[random.below(static_cast<uint64_t>(i + 1))]);
  return order;
}

ImageClassificationTask::ImageClassificationTask(const ImageClassificationTaskSettings& settings, ImageDataset train,
                                                 ImageDataset evaluation)
    : settings_(settings), train_(std::move(train)), evaluation_(std::move(evaluation)), model_(settings.config) {
  if (train_.images.empty()) fail(ErrorKind::Input, "no training images");
  initialize_parameters(model_.parameters(), settings.seed);
  if (!settings.init_from.empty()) {
    const PerceiverConfig source = load_config(settings.init_from + "/config.json");
    const bool new_head = source.num_labels() != settings.config.num_labels();
    load_parameters(model_.parameters(), settings.init_from,
                    [&](const std::string& name) { return new_head && is_classification_head(name); });
  }
}

const std::vector<int64_t>& ImageClassificationTask::order_for(int64_t epoch) {
  if (epoch != order_epoch_) {
    order_ = epoch_order(static_cast<int64_t>(train_.images.size()), settings_.seed, epoch);
    order_epoch_ = epoch;
  }
  return order_;
}

LossResult ImageClassificationTask::train_step(int64_t step) {
  const int64_t count = static_cast<int64_t>(train_.images.size()), batch = settings_.batch_size;
  std::vector<int64_t> indices;
  ImageDataset flips;  // only the flipped copies of this batch
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t example = step * batch + b;
    const std::vector<int64_t>& order = order_for(example / count);
    indices.push_back(order[example % count]);
  }
  std::vector<int64_t> labels;
  for (int64_t i : indices) labels.push_back(train_.labels[i]);
  Tensor pixels;
  if (settings_.flip) {
    SplitMix64 random(mix_seed(settings_.seed + 2, static_cast<uint64_t>(step)));
    for (int64_t i : indices) flips.images.push_back(random.below(2) ? flipped(train_.images[i]) : train_.images[i]);
    std::vector<int64_t> all(indices.size());
    std::iota(all.begin(), all.end(), 0);
    pixels = pixel_batch(flips, all, settings_.processor);
  } else {
    pixels = pixel_batch(train_, indices, settings_.processor);
  }
  return model_.step(settings_.backend, pixels.data<float>(), labels.data(), batch, pixels.dim(2), pixels.dim(3), true);
}

EvaluationResult ImageClassificationTask::evaluate() {
  const int64_t total = settings_.eval_images > 0
                            ? std::min<int64_t>(settings_.eval_images, static_cast<int64_t>(evaluation_.images.size()))
                            : static_cast<int64_t>(evaluation_.images.size());
  LossTally tally;
  for (int64_t first = 0; first < total; first += kEvaluationBatch) {
    std::vector<int64_t> indices(static_cast<size_t>(std::min(kEvaluationBatch, total - first)));
    std::iota(indices.begin(), indices.end(), first);
    std::vector<int64_t> labels;
    for (int64_t i : indices) labels.push_back(evaluation_.labels[i]);
    const Tensor pixels = pixel_batch(evaluation_, indices, settings_.processor);
    tally.add(model_.step(settings_.backend, pixels.data<float>(), labels.data(), static_cast<int64_t>(indices.size()),
                          pixels.dim(2), pixels.dim(3), false));
  }
  return tally.result();
}

void ImageClassificationTask::save_model(const std::string& dir) {
  save_model_folder(dir, settings_.config, model_.parameters(), {{"preprocessor_config.json", settings_.processor_json}});
}

}  // namespace perceiver::training
