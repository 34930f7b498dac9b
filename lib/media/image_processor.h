// The HF PerceiverImageProcessor (docs/spec/io_formats.md §2.1, PIL path): centre crop to a square of
// side int(size / crop_size * min(H, W)), Pillow's BICUBIC resize to size × size (bit-exact,
// §2.2), rescale by 1/255 and ImageNet normalisation, channels first.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "media/image.h"
#include "tensor/tensor.h"

namespace perceiver {

// Defaults are the settings of the released vision checkpoints (docs/spec/checkpoints.md §1).
struct ImageProcessorConfig {
  bool do_center_crop = true;
  int64_t crop_size = 256;
  bool do_resize = true;
  int64_t size = 224;
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255;
  bool do_normalize = true;
  std::array<float, 3> image_mean{0.485f, 0.456f, 0.406f}, image_std{0.229f, 0.224f, 0.225f};
  int resample = 3;  // PIL.Image.BICUBIC, the only one supported
};

// <model_dir>/preprocessor_config.json, or the defaults when the folder has none. Accepts the
// legacy feature-extractor form (crop_size and size integers) and the newer image-processor form
// ({"height": h, "width": w}, which must be square). Error(ConfigInvalid, "<path>: …") when the
// file is malformed, a value has the wrong type or range, or resample is not 3.
ImageProcessorConfig load_image_processor_config(const std::string& model_dir);
// The same for JSON text; `source` starts every message.
ImageProcessorConfig parse_image_processor_config(const std::string& json_text, const std::string& source);

// The centred side × side square with side = int(size / crop_size * min(H, W)) (a double product,
// then truncated, as HF computes it), top = (H - side) div 2, left = (W - side) div 2 (floor).
// When side exceeds a dimension (size > crop_size), the part outside the image is zero, as HF
// pads it.
Image center_crop(const Image& image, int64_t crop_size, int64_t size);

// Pillow's antialiased BICUBIC resampling of 8-bit data (22-bit fixed-point weights), horizontal
// pass then vertical pass, each rounded and clamped to 8 bits; a pass whose dimension does not
// change is skipped, so a same-size resize is a copy. Error(Input) for an empty image.
Image resize_bicubic(const Image& image, int64_t width, int64_t height);

// Channels-first [3, H, W] floats: v = float(u * rescale_factor) (product in double) when
// do_rescale, then (v - mean_c) / std_c in float32 when do_normalize.
void write_pixel_values(const Image& image, const ImageProcessorConfig& config, float* out);

// The processor applied to a batch: crop → resize → rescale/normalise, giving pixel_values
// F32 [B, 3, H, W] (H = W = size when do_resize). The images must end up with one common size
// (always true with do_resize), else Error(Input); an empty batch or an image too small to crop is
// Error(Input) too.
Tensor preprocess_images(const std::vector<Image>& images, const ImageProcessorConfig& config);

}  // namespace perceiver
