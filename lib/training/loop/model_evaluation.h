// Held-out evaluation of a saved model folder through the inference library — the code
// perceiver-mlm and perceiver-classify run — so the quality a model folder documents is the
// quality the tools deliver, whatever the trainer believed.
#pragma once

#include <string>

#include <vector>

#include "tasks/mask_filler.h"
#include "training/data/byte_masking.h"
#include "training/data/image_dataset.h"
#include "training/loop/training_loop.h"

namespace perceiver::training {

// Masked-byte accuracy and loss on the held-out windows of `text_folder` (the split and masks
// of training/data/masked_bytes.h; the window is the model's max_position_embeddings).
EvaluationResult evaluate_masked_lm(const std::string& model_dir, const std::string& text_folder,
                                    int64_t max_windows = 0, int64_t held_out_every = 20,
                                    MaskingRule rule = MaskingRule::Words);

// Masked-byte accuracy and loss of fill_masks — exactly what perceiver-mlm runs, windows and all
// — on `documents`: document i masked by `rule` with `fraction` and seed mix_seed(kHeldOutSeed, i)
// (training/data/byte_masking.h), every masked byte scored against the byte it hid. extra holds the
// most-frequent-masked-byte baseline, the number of documents, and whole_run_accuracy: the
// share of runs of adjacent masked bytes (a masked word) filled entirely right.
EvaluationResult evaluate_mask_filling(const std::string& model_dir, const std::vector<std::string>& documents,
                                       MaskingRule rule, double fraction, Decoding decoding = Decoding::Parallel);

// The documents of a held-out prose file: its non-empty lines (one paragraph each).
std::vector<std::string> read_line_documents(const std::string& path);

// Top-1 accuracy and loss of an image classifier on `data`, every image through the folder's
// preprocessor_config.json. `predictions` (optional) receives the argmax per image.
EvaluationResult evaluate_image_classifier(const std::string& model_dir, const ImageDataset& data,
                                           std::vector<int64_t>* predictions = nullptr);

}  // namespace perceiver::training
