#include "training/model_evaluation.h"

#include <numeric>

#include "checkpoint/weights.h"
#include "models/image_classifier.h"
#include "models/masked_lm.h"
#include "training/masked_bytes.h"
#include "training/text_corpus.h"

namespace perceiver::training {

namespace {
constexpr size_t kTextBatch = 16;
constexpr int64_t kImageBatch = 100;
}  // namespace

EvaluationResult evaluate_masked_lm(const std::string& model_dir, const std::string& text_folder, int64_t max_windows,
                                    int64_t held_out_every) {
  const PerceiverConfig config = load_config(model_dir + "/config.json");
  if (config.architecture != "PerceiverForMaskedLM")
    fail(ErrorKind::ConfigInvalid, model_dir + ": not a masked language model (" + config.architecture + ")");
  const auto weights = open_model_weights(model_dir);
  const MaskedLanguageModel model(config, *weights);
  weights->finish();
  const TextCorpus corpus = load_text_corpus(text_folder, held_out_every);
  const std::vector<MaskedWindow> windows =
      held_out_windows(corpus.held_out, config.max_position_embeddings - 2, max_windows);
  MaskedByteScore score;
  for (size_t first = 0; first < windows.size(); first += kTextBatch) {
    const MaskedBatch batch = batch_of(windows, first, std::min(kTextBatch, windows.size() - first));
    Tensor ids = Tensor::zeros(DType::I64, {batch.batch, batch.length});
    std::copy(batch.input_ids.begin(), batch.input_ids.end(), ids.mutable_data<int64_t>());
    const Tensor logits = model.forward(ids);  // [B, P, V], P = L here
    score.add(logits.data<float>(), batch.labels.data(), batch.batch * batch.length, config.vocab_size);
  }
  return score.result();
}

EvaluationResult evaluate_image_classifier(const std::string& model_dir, const ImageDataset& data,
                                           std::vector<int64_t>* predictions) {
  const PerceiverConfig config = load_config(model_dir + "/config.json");
  if (!is_image_classifier(config.architecture))
    fail(ErrorKind::ConfigInvalid, model_dir + ": not an image classifier (" + config.architecture + ")");
  const ImageProcessorConfig processor = load_image_processor_config(model_dir);
  const auto weights = open_model_weights(model_dir);
  const ImageClassifier model(config, *weights);
  weights->finish();
  LossTally tally;
  const int64_t total = static_cast<int64_t>(data.images.size());
  for (int64_t first = 0; first < total; first += kImageBatch) {
    std::vector<int64_t> indices(static_cast<size_t>(std::min(kImageBatch, total - first)));
    std::iota(indices.begin(), indices.end(), first);
    const Tensor logits = model.forward(pixel_batch(data, indices, processor));  // [B, K]
    std::vector<int64_t> labels;
    for (int64_t i : indices) labels.push_back(data.labels[i] < model.num_labels() ? data.labels[i] : -1);
    tally.add(softmax_cross_entropy<float>(logits.data<float>(), static_cast<int64_t>(indices.size()),
                                           model.num_labels(), labels.data(), nullptr));
    if (predictions)
      for (size_t b = 0; b < indices.size(); ++b) {
        const float* row = logits.data<float>() + b * model.num_labels();
        predictions->push_back(std::max_element(row, row + model.num_labels()) - row);
      }
  }
  return tally.result();
}

}  // namespace perceiver::training
