#include "media/image_processor.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/input_file.h"
#include "common/json.h"

namespace perceiver {

namespace {

using Json = nlohmann::json;

constexpr int64_t kMaxSide = 1 << 16;  // sanity bound for crop_size and size

// ---- preprocessor_config.json -----------------------------------------------------------------

class ProcessorConfigReader {
 public:
  ProcessorConfigReader(const Json& json, const std::string& source) : json_(json), source_(source) {}

  [[noreturn]] void invalid(const std::string& what) const { fail(ErrorKind::ConfigInvalid, source_ + ": " + what); }

  // nullptr when the key is absent or null (null keeps the default).
  const Json* find(const char* key) const {
    const auto found = json_.find(key);
    return found == json_.end() || found->is_null() ? nullptr : &*found;
  }

  void flag(const char* key, bool& field) const {
    if (const Json* value = find(key)) {
      if (!value->is_boolean()) invalid(std::string(key) + " must be true or false, not " + value->dump());
      field = value->get<bool>();
    }
  }

  // An integer (or an integral float) in [1, kMaxSide].
  int64_t side_value(const Json& value, const std::string& what) const {
    double number = 0;
    if (value.is_number_integer()) {
      if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(kMaxSide))
        invalid(what + " " + value.dump() + " is out of range (1.." + std::to_string(kMaxSide) + ")");
      number = static_cast<double>(value.get<int64_t>());
    } else if (value.is_number_float()) {
      number = value.get<double>();
      if (number != std::floor(number)) invalid(what + " must be an integer, not " + value.dump());
    } else {
      invalid(what + " must be an integer, not " + value.dump());
    }
    if (!(number >= 1 && number <= static_cast<double>(kMaxSide)))
      invalid(what + " " + value.dump() + " is out of range (1.." + std::to_string(kMaxSide) + ")");
    return static_cast<int64_t>(number);
  }

  // Legacy: an integer. Newer: {"height": h, "width": w} with h == w.
  void square(const char* key, int64_t& field) const {
    const Json* value = find(key);
    if (!value) return;
    if (!value->is_object()) {
      field = side_value(*value, key);
      return;
    }
    const auto height = value->find("height"), width = value->find("width");
    if (height == value->end() || width == value->end())
      invalid(std::string(key) + " must be an integer or {\"height\": h, \"width\": w}, not " + value->dump());
    const int64_t h = side_value(*height, std::string(key) + ".height");
    const int64_t w = side_value(*width, std::string(key) + ".width");
    if (h != w)
      invalid(std::string(key) + " " + value->dump() + " is not square (only square sizes are supported)");
    field = h;
  }

  // A number or a list of three (one per channel).
  void per_channel(const char* key, std::array<float, 3>& field, bool nonzero) const {
    const Json* value = find(key);
    if (!value) return;
    std::array<double, 3> numbers{};
    if (value->is_number()) {
      numbers.fill(value->get<double>());
    } else if (value->is_array() && value->size() == 3 &&
               std::all_of(value->begin(), value->end(), [](const Json& v) { return v.is_number(); })) {
      for (size_t c = 0; c < 3; ++c) numbers[c] = (*value)[c].get<double>();
    } else {
      invalid(std::string(key) + " must be a number or a list of 3 numbers, not " + value->dump());
    }
    for (size_t c = 0; c < 3; ++c) {
      const float number = static_cast<float>(numbers[c]);
      if (!std::isfinite(number) || (nonzero && number == 0.0f))
        invalid(std::string(key) + " " + value->dump() + (nonzero ? " must be finite and non-zero" : " must be finite"));
      field[c] = number;
    }
  }

  void scale(const char* key, double& field) const {
    if (const Json* value = find(key)) {
      if (!value->is_number() || !std::isfinite(value->get<double>()) || value->get<double>() <= 0)
        invalid(std::string(key) + " must be a positive number, not " + value->dump());
      field = value->get<double>();
    }
  }

  void resample(int& field) const {
    const Json* value = find("resample");
    if (!value) return;
    if (!value->is_number_integer() || value->get<int64_t>() != 3)
      invalid("resample " + value->dump() + " is not supported (only 3, PIL bicubic)");
    field = 3;
  }

 private:
  const Json& json_;
  const std::string& source_;
};

// ---- Pillow bicubic ---------------------------------------------------------------------------

constexpr int kPrecisionBits = 22;

// Keys' cubic convolution kernel with a = -0.5, support 2.
double bicubic_kernel(double x) {
  constexpr double a = -0.5;
  const double t = std::fabs(x);
  if (t < 1.0) return ((a + 2.0) * t - (a + 3.0)) * t * t + 1.0;
  if (t < 2.0) return (((t - 5.0) * t + 8.0) * t - 4.0) * a;
  return 0.0;
}

// For each output index j along one axis: the first input index and the fixed-point weights of
// the input indices first .. first + count - 1.
struct AxisWeights {
  std::vector<int64_t> first, count;
  std::vector<int32_t> weights;  // count[j] weights of output j start at offset[j]
  std::vector<size_t> offset;
};

AxisWeights axis_weights(int64_t in_size, int64_t out_size) {
  AxisWeights axis;
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);  // stretched when downsampling (antialiasing)
  const double support = 2.0 * filter_scale;
  std::vector<double> w;
  for (int64_t j = 0; j < out_size; ++j) {
    const double center = (static_cast<double>(j) + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(center - support + 0.5));
    const int64_t hi = std::min<int64_t>(in_size, static_cast<int64_t>(center + support + 0.5));
    w.assign(static_cast<size_t>(std::max<int64_t>(hi - lo, 0)), 0.0);
    double total = 0.0;
    for (int64_t k = lo; k < hi; ++k) {
      const double value = bicubic_kernel((static_cast<double>(k) - center + 0.5) / filter_scale);
      w[static_cast<size_t>(k - lo)] = value;
      total += value;
    }
    axis.first.push_back(lo);
    axis.count.push_back(hi - lo);
    axis.offset.push_back(axis.weights.size());
    for (double value : w) {
      if (total != 0.0) value /= total;
      // Rounded half away from zero to 22 fractional bits.
      const double fixed = value * static_cast<double>(1 << kPrecisionBits);
      axis.weights.push_back(static_cast<int32_t>(fixed < 0 ? fixed - 0.5 : fixed + 0.5));
    }
  }
  return axis;
}

inline uint8_t clamp8(int64_t acc) {
  const int64_t value = acc >> kPrecisionBits;  // arithmetic shift: negative sums stay negative
  return static_cast<uint8_t>(value < 0 ? 0 : value > 255 ? 255 : value);
}

Image resize_horizontal(const Image& in, int64_t out_width) {
  const AxisWeights axis = axis_weights(in.width, out_width);
  Image out;
  out.width = out_width;
  out.height = in.height;
  out.rgb.resize(static_cast<size_t>(out.width * out.height * 3));
  for (int64_t y = 0; y < in.height; ++y) {
    const uint8_t* row = &in.rgb[static_cast<size_t>(y * in.width * 3)];
    uint8_t* dst = &out.rgb[static_cast<size_t>(y * out_width * 3)];
    for (int64_t x = 0; x < out_width; ++x) {
      const int32_t* w = &axis.weights[axis.offset[static_cast<size_t>(x)]];
      const uint8_t* src = row + axis.first[static_cast<size_t>(x)] * 3;
      const int64_t n = axis.count[static_cast<size_t>(x)];
      for (int c = 0; c < 3; ++c) {
        int64_t acc = int64_t{1} << (kPrecisionBits - 1);
        for (int64_t k = 0; k < n; ++k) acc += static_cast<int64_t>(w[k]) * src[k * 3 + c];
        dst[x * 3 + c] = clamp8(acc);
      }
    }
  }
  return out;
}

Image resize_vertical(const Image& in, int64_t out_height) {
  const AxisWeights axis = axis_weights(in.height, out_height);
  Image out;
  out.width = in.width;
  out.height = out_height;
  out.rgb.resize(static_cast<size_t>(out.width * out.height * 3));
  const int64_t stride = in.width * 3;
  std::vector<int64_t> acc(static_cast<size_t>(stride));
  for (int64_t y = 0; y < out_height; ++y) {
    const int32_t* w = &axis.weights[axis.offset[static_cast<size_t>(y)]];
    const int64_t first = axis.first[static_cast<size_t>(y)];
    const int64_t n = axis.count[static_cast<size_t>(y)];
    std::fill(acc.begin(), acc.end(), int64_t{1} << (kPrecisionBits - 1));
    for (int64_t k = 0; k < n; ++k) {
      const uint8_t* src = &in.rgb[static_cast<size_t>((first + k) * stride)];
      for (int64_t i = 0; i < stride; ++i) acc[static_cast<size_t>(i)] += static_cast<int64_t>(w[k]) * src[i];
    }
    uint8_t* dst = &out.rgb[static_cast<size_t>(y * stride)];
    for (int64_t i = 0; i < stride; ++i) dst[i] = clamp8(acc[static_cast<size_t>(i)]);
  }
  return out;
}

void check_image(const Image& image, const char* what) {
  if (image.width <= 0 || image.height <= 0) fail(ErrorKind::Input, std::string(what) + ": the image is empty");
  if (image.rgb.size() != static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3)
    fail(ErrorKind::Internal, std::string(what) + ": the pixel buffer does not match " + std::to_string(image.width) +
                                  "x" + std::to_string(image.height));
}

int64_t floor_div2(int64_t value) { return value >= 0 ? value / 2 : -((-value + 1) / 2); }

}  // namespace

ImageProcessorConfig parse_image_processor_config(const std::string& json_text, const std::string& source) {
  const Json json = parse_json(json_text, source, ErrorKind::ConfigInvalid);
  if (!json.is_object()) fail(ErrorKind::ConfigInvalid, source + ": not a JSON object");
  ImageProcessorConfig config;
  const ProcessorConfigReader reader(json, source);
  reader.flag("do_center_crop", config.do_center_crop);
  reader.square("crop_size", config.crop_size);
  reader.flag("do_resize", config.do_resize);
  reader.square("size", config.size);
  reader.flag("do_rescale", config.do_rescale);
  reader.scale("rescale_factor", config.rescale_factor);
  reader.flag("do_normalize", config.do_normalize);
  reader.per_channel("image_mean", config.image_mean, false);
  reader.per_channel("image_std", config.image_std, true);
  reader.resample(config.resample);
  // The centre crop first pads an image to size / crop_size times its side; a hostile config
  // (crop_size 1, size 224) would ask for 50,000 times the pixels. Released models use 256 / 224.
  if (config.do_center_crop && config.size > 4 * config.crop_size)
    fail(ErrorKind::ConfigInvalid, source + ": size " + std::to_string(config.size) + " is more than 4 times crop_size " +
                                       std::to_string(config.crop_size) +
                                       " (the centre crop would pad images to over 16 times their area)");
  return config;
}

ImageProcessorConfig load_image_processor_config(const std::string& model_dir) {
  const std::string path = model_dir + "/preprocessor_config.json";
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return {};  // no file: the released checkpoints' settings
    fail(ErrorKind::ConfigInvalid, path + ": cannot read the file");
  }
  require_regular_file(path, ErrorKind::ConfigInvalid, ErrorKind::ConfigInvalid);
  return parse_image_processor_config(
      read_input_file(path, {kMaxConfigBytes, ""}, ErrorKind::ConfigInvalid), path);
}

Image center_crop(const Image& image, int64_t crop_size, int64_t size) {
  if (crop_size <= 0 || size <= 0)
    fail(ErrorKind::Internal, "center_crop: crop_size " + std::to_string(crop_size) + " and size " +
                                  std::to_string(size) + " must be positive");
  check_image(image, "center_crop");
  const int64_t min_dim = std::min(image.width, image.height);
  // HF: int((size / crop_size) * min_dim), the quotient and product in double.
  const int64_t side = static_cast<int64_t>(static_cast<double>(size) / static_cast<double>(crop_size) *
                                            static_cast<double>(min_dim));
  Image out;
  out.width = out.height = side;
  out.rgb.assign(static_cast<size_t>(side * side * 3), 0);
  const int64_t top = floor_div2(image.height - side), left = floor_div2(image.width - side);
  // Columns of the window inside the image (all of them unless side > W, when HF pads with zeros).
  const int64_t x0 = std::max<int64_t>(0, -left), x1 = std::min(side, image.width - left);
  for (int64_t y = 0; y < side; ++y) {
    const int64_t sy = y + top;
    if (sy < 0 || sy >= image.height || x1 <= x0) continue;
    std::memcpy(&out.rgb[static_cast<size_t>((y * side + x0) * 3)],
                &image.rgb[static_cast<size_t>((sy * image.width + left + x0) * 3)], static_cast<size_t>((x1 - x0) * 3));
  }
  return out;
}

Image resize_bicubic(const Image& image, int64_t width, int64_t height) {
  check_image(image, "resize");
  if (width <= 0 || height <= 0)
    fail(ErrorKind::Internal, "resize: target size " + std::to_string(width) + "x" + std::to_string(height) +
                                  " must be positive");
  if (width == image.width && height == image.height) return image;
  if (height == image.height) return resize_horizontal(image, width);
  if (width == image.width) return resize_vertical(image, height);
  return resize_vertical(resize_horizontal(image, width), height);
}

void write_pixel_values(const Image& image, const ImageProcessorConfig& config, float* out) {
  check_image(image, "write_pixel_values");
  const size_t plane = static_cast<size_t>(image.width) * static_cast<size_t>(image.height);
  for (size_t c = 0; c < 3; ++c) {
    // Per byte value: the 256 possible results, computed exactly as the per-pixel formula.
    float table[256];
    for (int u = 0; u < 256; ++u) {
      float v = config.do_rescale ? static_cast<float>(static_cast<double>(u) * config.rescale_factor)
                                  : static_cast<float>(u);
      if (config.do_normalize) v = (v - config.image_mean[c]) / config.image_std[c];
      table[u] = v;
    }
    const uint8_t* src = image.rgb.data() + c;
    float* dst = out + c * plane;
    for (size_t i = 0; i < plane; ++i) dst[i] = table[src[i * 3]];
  }
}

Tensor preprocess_images(const std::vector<Image>& images, const ImageProcessorConfig& config) {
  if (images.empty()) fail(ErrorKind::Input, "no images to preprocess");
  std::vector<Image> ready;
  ready.reserve(images.size());
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string which = "image " + std::to_string(i + 1);
    check_image(images[i], which.c_str());
    Image image = images[i];
    if (config.do_center_crop) {
      image = center_crop(image, config.crop_size, config.size);
      if (image.width == 0)
        fail(ErrorKind::Input, which + " of " + std::to_string(images[i].width) + "x" +
                                   std::to_string(images[i].height) + " pixels is too small for the center crop");
    }
    if (config.do_resize) image = resize_bicubic(image, config.size, config.size);
    if (!ready.empty() && (image.width != ready[0].width || image.height != ready[0].height))
      fail(ErrorKind::Input, which + " is " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                                 " after cropping/resizing but image 1 is " + std::to_string(ready[0].width) + "x" +
                                 std::to_string(ready[0].height) + "; a batch needs one size (enable do_resize)");
    ready.push_back(std::move(image));
  }
  const int64_t height = ready[0].height, width = ready[0].width;
  Tensor pixels = Tensor::f32({static_cast<int64_t>(ready.size()), 3, height, width});
  float* out = pixels.mutable_data<float>();
  for (size_t i = 0; i < ready.size(); ++i) write_pixel_values(ready[i], config, out + i * 3 * height * width);
  return pixels;
}

}  // namespace perceiver
