// Fuzz target: image decoding (lib/media/image.h: libjpeg-turbo, libpng, our GIF decoder,
// stb_image, EXIF orientation) and our processing of the result (lib/media/image_processor.h:
// centre crop, Pillow bicubic resize, the whole processor). The whole input is the image file; its last three bytes (part of the file
// too, which decoders ignore or need anyway) choose the crop and resize sizes, so the real images
// of the seed corpus decode unchanged.
#include <algorithm>

#include "fuzz_common.h"
#include "media/image.h"
#include "media/image_processor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perceiver;
  const uint8_t a = size >= 1 ? data[size - 1] : 0;
  const uint8_t b = size >= 2 ? data[size - 2] : 0;
  const uint8_t c = size >= 3 ? data[size - 3] : 0;
  fuzz::fuzz_guard([&] {
    ImageLimits limits;
    limits.max_pixels = 1 << 20;
    const Image image = decode_image(data, size, "fuzz.img", limits);
    if (image.width <= 0 || image.height <= 0 ||
        image.rgb.size() != static_cast<size_t>(image.width * image.height * 3)) {
      std::fprintf(stderr, "FUZZ FINDING: decode_image returned an inconsistent image\n");
      std::abort();
    }
    // Sizes 1..64. crop_size may be smaller than size (the crop then pads with zeros), but by at
    // most a factor of 2: the padded square grows with (size / crop_size)², and a preprocessor
    // config asking for more than that is a trusted file's choice, not a property of the image.
    const int64_t out_w = 1 + a % 64, out_h = 1 + b % 64;
    const int64_t target = 1 + (a ^ c) % 64;
    const int64_t crop_size = std::max<int64_t>(1 + c % 64, (target + 1) / 2);
    fuzz::fuzz_guard([&] {
      const Image cropped = center_crop(image, crop_size, target);
      fuzz::keep(cropped.rgb.size());
      if (cropped.width > 0 && cropped.height > 0) fuzz::keep(resize_bicubic(cropped, out_w, out_h).rgb.size());
    });
    fuzz::fuzz_guard([&] { fuzz::keep(resize_bicubic(image, out_w, out_h).rgb.size()); });
    fuzz::fuzz_guard([&] {
      ImageProcessorConfig config;
      config.size = target;
      config.crop_size = crop_size;
      config.do_center_crop = (b & 1) != 0;
      config.do_resize = (b & 2) != 0 || image.width * image.height > 4096;
      const Tensor pixels = preprocess_images({image, image}, config);
      fuzz::keep(fuzz::touch_tensor(pixels));
    });
  });
  return 0;
}
