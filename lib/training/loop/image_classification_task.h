// perceiver-train classify: image classification from a labelled folder tree or MNIST-style IDX
// files, every image through the model folder's preprocessor_config.json exactly as
// perceiver-classify will see it.
#pragma once

#include <string>

#include "media/image_processor.h"
#include "training/data/image_dataset.h"
#include "training/model/train_image_classifier.h"
#include "training/loop/training_loop.h"

namespace perceiver::training {

struct ImageClassificationTaskSettings {
  PerceiverConfig config;            // id2label sized to the data's classes
  ImageProcessorConfig processor;
  std::string processor_json;        // written beside config.json
  int64_t batch_size = 64;
  uint64_t seed = 0;
  int64_t eval_images = 0;           // 0: the whole evaluation set
  bool flip = false;                 // random horizontal flips of training images
  std::string init_from;             // a model folder to fine-tune (its head is replaced when
                                     // its label count differs)
  GemmBackend backend = GemmBackend::OneDnn;
};

class ImageClassificationTask : public TrainingTask {
 public:
  ImageClassificationTask(const ImageClassificationTaskSettings& settings, ImageDataset train, ImageDataset evaluation);

  ParameterSet<float>& parameters() override { return model_.parameters(); }
  LossResult train_step(int64_t step) override;
  int64_t examples_per_step() const override { return settings_.batch_size; }
  EvaluationResult evaluate() override;
  void save_model(const std::string& dir) override;

 private:
  const std::vector<int64_t>& order_for(int64_t epoch);

  ImageClassificationTaskSettings settings_;
  ImageDataset train_, evaluation_;
  std::vector<int64_t> order_;  // the training order of epoch order_epoch_
  int64_t order_epoch_ = -1;
  TrainImageClassifier<float> model_;
};

// Example e of epoch k in a training run: a permutation of the data per epoch, seeded by
// (seed, epoch), so the order is a function of the step alone.
std::vector<int64_t> epoch_order(int64_t count, uint64_t seed, int64_t epoch);

}  // namespace perceiver::training
