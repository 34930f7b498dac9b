// Fuzz target: config.json (lib/checkpoint/config.h) and preprocessor_config.json
// (lib/media/image_processor.h) from the same text. An accepted image processor config of a small
// size is then applied to a tiny image, so that accepted values (crop_size, size, ...) are known
// to be usable.
#include <string>
#include <vector>

#include "checkpoint/config.h"
#include "fuzz_common.h"
#include "media/image_processor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perceiver;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::fuzz_guard([&] {
    const PerceiverConfig config = parse_config(text, "config.json");
    fuzz::keep(config.num_labels());
  });
  fuzz::fuzz_guard([&] {
    const ImageProcessorConfig config = parse_image_processor_config(text, "preprocessor_config.json");
    if (config.size > 64 || config.crop_size > 4096) return;  // keep each run small
    Image image;
    image.width = 7;
    image.height = 5;
    image.rgb.resize(7 * 5 * 3);
    for (size_t i = 0; i < image.rgb.size(); ++i) image.rgb[i] = static_cast<uint8_t>(i * 37);
    const Tensor pixels = preprocess_images({image}, config);
    fuzz::keep(fuzz::touch_tensor(pixels));
  });
  return 0;
}
