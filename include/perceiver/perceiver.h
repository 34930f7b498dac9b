// The installed C++ API of libperceiver (docs/library.md): load a Perceiver IO model folder and
// run one of the tasks the tools run, with the same code and the same answers:
//   fill masks (PerceiverForMaskedLM), classify an image (the three ImageNet classifiers and
//   any PerceiverForImageClassification*) or a text (PerceiverForSequenceClassification), the
//   optical flow of a frame pair
//   (PerceiverForOpticalFlow), and autoencode a clip (PerceiverForMultimodalAutoencoding).
// Only this header is installed; it includes nothing of the library's internals, so programs
// compile against it alone (pkg-config perceiver, or find_package(perceiver) →
// perceiver::perceiver).
//
// Threads: a Model is used by one thread at a time (its buffers are its own); different Models
// may run in different threads at once, each with its own Settings. Nothing is shared between
// them but oneDNN's engine, which is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace perceiver {

// "0.1.0": the library's version.
std::string version();
// The source tree's commit it was built from ("4da6bfb2c1e0", "-dirty" when changed), or "unknown".
std::string git_commit();
// One line: version, commit, oneDNN's version, the CPU ISA oneDNN uses here, and whether bf16
// matrix products are available (what every tool's --version prints).
std::string build_info();

namespace api {

// Every failure: what() is one line naming the file or argument; kind() one of "usage",
// "input", "output", "model-missing", "model-format", "model-mismatch", "config", "limit",
// "internal" (the tools' exit codes 2 … 9, 1 follow the same kinds: docs/batch.md).
class Error : public std::runtime_error {
 public:
  Error(const std::string& kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
};

struct Settings {
  int threads = 0;    // OpenMP threads of this model's calls (0: all cores)
  bool bf16 = false;  // bf16 matrix products with f32 accumulation (CPUs with AVX512_BF16; Error otherwise)
};

// 8-bit RGB, row-major, 3 bytes per pixel.
struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

// An image file (PNG, JPEG, BMP, GIF, …) decoded as the tools decode it (equal to Pillow's
// decoding: docs/images.md), EXIF orientation applied.
Image load_image(const std::string& path);

struct Label {
  int64_t id = 0;
  std::string name;        // config.json's id2label (or the id as text)
  double probability = 0;  // softmax over all labels
};

// Flow in pixels of the first frame: u rightwards, v downwards.
struct Flow {
  int64_t width = 0, height = 0;
  std::vector<float> uv;  // [height, width, 2]
};

struct Reconstruction {
  std::vector<Image> frames;  // the model's frame size, one per input frame used
  std::vector<float> audio;   // mono, at the model's sample rate
  std::vector<Label> labels;  // top-k Kinetics-700 labels: the mean of the windows' softmax
  double video_psnr_db = 0, audio_psnr_db = 0;
  int64_t windows = 0;        // model windows the clip filled (the rest is left out)
};

class Model {
 public:
  // A model folder as the tools take it (config.json + model.safetensors or pytorch_model.bin,
  // sharded or not, f32/f16/bf16). Error "model-missing", "model-format", "config", … when not.
  explicit Model(const std::string& folder, const Settings& settings = {});
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // config.json's architecture, e.g. "PerceiverForMaskedLM".
  const std::string& architecture() const;

  // Masked LM: `text` with [MASK] (one byte) or [MASK:N] (N bytes) marks, of any length (long
  // documents in overlapping windows), returned with every masked byte filled — what
  // `perceiver-mlm` prints for it.
  std::string fill_masks(const std::string& text) const;

  // Image classifiers: the image resized and normalised by the folder's preprocessor_config.json,
  // the top_k labels (0: all), most probable first — what `perceiver-classify -k K` prints.
  std::vector<Label> classify(const Image& image, int64_t top_k = 5) const;

  // Text classifier: one document, its first max_position_embeddings − 2 bytes (truncated as
  // HF's tokenizer truncates) — what `perceiver-classify -k K` prints for a text file.
  std::vector<Label> classify_text(const std::string& text, int64_t top_k = 5) const;

  // Optical flow: two frames of one size, any resolution (tiled as perceiver-flow tiles it).
  Flow flow(const Image& first, const Image& second) const;

  // Multimodal autoencoder: frames of any one size (centre-cropped and resized to the model's),
  // mono audio at the model's rate; every whole window of the clip — what
  // `perceiver-autoencode` computes for the same frames and samples.
  Reconstruction autoencode(const std::vector<Image>& frames, const std::vector<float>& audio, int64_t top_k = 5) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace api
}  // namespace perceiver
