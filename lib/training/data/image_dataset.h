// Labelled image datasets for classification training: IDX files (MNIST, Fashion-MNIST; raw or
// gzip-compressed) and folders with one sub-folder per class. pixel_batch turns examples into
// model input through the same processor perceiver-classify uses, so training and inference see
// identical pixels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "media/image.h"
#include "media/image_processor.h"
#include "tensor/tensor.h"

namespace perceiver::training {

struct ImageDataset {
  int64_t height = 0, width = 0;         // the images' common size, 0 × 0 when sizes differ
  std::vector<Image> images;             // RGB; grey data replicated into R, G, B
  std::vector<int64_t> labels;           // one per image, in 0 .. class_names.size() - 1
  std::vector<std::string> class_names;  // index = label
  std::vector<std::string> skipped;      // one message per file left out (undecodable images)
};

// An IDX image file ([count, rows, cols] unsigned bytes, magic 0x00000803) and its IDX label file
// ([count] unsigned bytes, magic 0x00000801), big-endian headers. Either file may be gzip-
// compressed (recognised by its first bytes 1f 8b, whatever its name). class_names are
// "0" .. "K-1" with K = largest label + 1. limit > 0 keeps the first `limit` examples.
// Every malformation — unreadable or short file, wrong magic, sizes that disagree with the
// file's length, count mismatch between the files, bad gzip data or trailer — is Error(Input)
// starting with the offending path.
ImageDataset load_idx(const std::string& images_path, const std::string& labels_path, int64_t limit = 0);

// `root`/<class>/<file>: every sub-folder of root is a class (sorted by name; class index = that
// order, class name = folder name); every regular file directly in a class folder (sorted by
// name) is decoded with load_image. A file that fails to decode (or exceeds limits) is left out
// and its error message added to `skipped`. Error(Input) "<root>: not a folder", "<root>: no class
// folders" or "<root>: no readable image in the class folders".
ImageDataset load_image_folder(const std::string& root, const ImageLimits& limits = {});

// The examples `indices` of `data` through preprocess_images (crop → resize → rescale/normalise):
// F32 [B, 3, H, W] with B = indices.size(), exactly what perceiver-classify feeds the model.
// Error(Internal) for an index outside the dataset; Error(Input) from preprocess_images for an
// empty batch or images that cannot be processed together.
Tensor pixel_batch(const ImageDataset& data, const std::vector<int64_t>& indices, const ImageProcessorConfig& config);

// The bytes of a gzip file (RFC 1952, a single member), checked against its CRC-32 and ISIZE
// trailer. `name` starts every Error(Input) message. Exposed for the tests.
std::vector<uint8_t> gunzip(const std::vector<uint8_t>& gz, const std::string& name);

}  // namespace perceiver::training
