#include "training/loop/model_evaluation.h"

#include <array>
#include <cmath>
#include <fstream>
#include <numeric>

#include "checkpoint/weights.h"
#include "common/random.h"
#include "media/byte_tokenizer.h"
#include "models/image_classifier.h"
#include "tasks/mask_filler.h"
#include "models/masked_lm.h"
#include "training/data/masked_bytes.h"
#include "training/data/text_corpus.h"

namespace perceiver::training {

namespace {
constexpr size_t kTextBatch = 16;
constexpr int64_t kImageBatch = 100;
}  // namespace

EvaluationResult evaluate_masked_lm(const std::string& model_dir, const std::string& text_folder, int64_t max_windows,
                                    int64_t held_out_every, MaskingRule rule) {
  const PerceiverConfig config = load_config(model_dir + "/config.json");
  if (config.architecture != "PerceiverForMaskedLM")
    fail(ErrorKind::ConfigInvalid, model_dir + ": not a masked language model (" + config.architecture + ")");
  const auto weights = open_model_weights(model_dir);
  const MaskedLanguageModel model(config, *weights);
  weights->finish();
  const TextCorpus corpus = load_text_corpus(text_folder, held_out_every);
  const std::vector<MaskedWindow> windows =
      held_out_windows(corpus.held_out, config.max_position_embeddings - 2, max_windows, rule);
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

EvaluationResult evaluate_mask_filling(const std::string& model_dir, const std::vector<std::string>& documents,
                                       MaskingRule rule, double fraction, Decoding decoding) {
  const PerceiverConfig config = load_config(model_dir + "/config.json");
  if (config.architecture != "PerceiverForMaskedLM")
    fail(ErrorKind::ConfigInvalid, model_dir + ": not a masked language model (" + config.architecture + ")");
  const auto weights = open_model_weights(model_dir);
  const MaskedLanguageModel model(config, *weights);
  weights->finish();
  double loss_sum = 0;
  int64_t correct = 0, count = 0, runs = 0, runs_right = 0;
  std::array<int64_t, 256> label_counts{};
  for (size_t d = 0; d < documents.size(); ++d) {
    const std::string& text = documents[d];
    const std::vector<bool> masked = mask_positions(text, mix_seed(kHeldOutSeed, d), fraction, rule);
    std::vector<int64_t> ids(text.size());  // [n], the document unframed, as encode_masked_document gives it
    for (size_t i = 0; i < text.size(); ++i)
      ids[i] = masked[i] ? tokenizer::kMask : static_cast<int64_t>(static_cast<unsigned char>(text[i])) + tokenizer::kByteOffset;
    const FilledDocument filled = fill_masks(model, ids, 0, decoding);
    // Runs of adjacent masked bytes (a masked word, with its space): right only when every byte is.
    for (size_t m = 0; m < filled.masks.size();) {
      size_t end = m + 1;
      while (end < filled.masks.size() && filled.masks[end].position == filled.masks[end - 1].position + 1) ++end;
      bool right = true;
      for (size_t k = m; k < end; ++k)
        right = right && filled.masks[k].candidates.front().id ==
                             static_cast<int64_t>(static_cast<unsigned char>(text[static_cast<size_t>(filled.masks[k].position - 1)])) +
                                 tokenizer::kByteOffset;
      ++runs;
      runs_right += right;
      m = end;
    }
    for (const MaskPrediction& prediction : filled.masks) {
      const unsigned char truth = static_cast<unsigned char>(text[static_cast<size_t>(prediction.position - 1)]);
      const int64_t label = static_cast<int64_t>(truth) + tokenizer::kByteOffset;
      ++label_counts[truth];
      ++count;
      correct += prediction.candidates.front().id == label;
      for (const TokenScore& candidate : prediction.candidates)
        if (candidate.id == label) loss_sum -= std::log(std::max(candidate.p, 1e-30f));
    }
  }
  EvaluationResult result;
  result.count = count;
  if (count) {
    result.loss = loss_sum / static_cast<double>(count);
    result.accuracy = static_cast<double>(correct) / static_cast<double>(count);
    const auto most = std::max_element(label_counts.begin(), label_counts.end());
    result.extra["most_frequent_byte_accuracy"] = static_cast<double>(*most) / static_cast<double>(count);
    result.extra["most_frequent_byte"] = static_cast<double>(most - label_counts.begin());
  }
  result.extra["documents"] = static_cast<double>(documents.size());
  result.extra["masked_runs"] = static_cast<double>(runs);
  if (runs) result.extra["whole_run_accuracy"] = static_cast<double>(runs_right) / static_cast<double>(runs);
  return result;
}

std::vector<std::string> read_line_documents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::Input, path + ": cannot open the text");
  std::vector<std::string> documents;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) documents.push_back(line);
  }
  if (documents.empty()) fail(ErrorKind::Input, path + ": no text (one document per line)");
  return documents;
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
