// Dense optical flow fields and Middlebury .flo files (the Sintel / KITTI-devkit format,
// docs/spec/io_formats.md §3.6). The end-point error and the other metrics: media/flow_metrics.h.
//
// .flo layout, little-endian: float32 magic 202021.25 ("PIEH"), int32 width, int32 height, then
// height rows top to bottom of width (u, v) float32 pairs. u is rightwards, v downwards, in pixels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace perceiver {

struct FlowField {
  int64_t width = 0, height = 0;
  std::vector<float> uv;  // row-major, (u, v) per pixel: width * height * 2 floats

  FlowField() = default;
  FlowField(int64_t w, int64_t h) : width(w), height(h), uv(static_cast<size_t>(w * h * 2), 0.f) {}
  float u(int64_t y, int64_t x) const { return uv[static_cast<size_t>((y * width + x) * 2)]; }
  float v(int64_t y, int64_t x) const { return uv[static_cast<size_t>((y * width + x) * 2 + 1)]; }
};

constexpr float kFloMagic = 202021.25f;
// Ground-truth files mark pixels of unknown flow with |u| or |v| above this.
constexpr float kUnknownFlowThreshold = 1e9f;

// False for the unknown-flow marker (|u| or |v| > 1e9) and for NaN / infinite components.
bool flow_is_known(float u, float v);

struct FloLimits {
  int64_t max_pixels = 100'000'000;  // width * height announced by the header
};

// Writes `flow` as a .flo file, atomically (whole or not at all). Error(Output) on failure.
void write_flo(const std::string& path, const FlowField& flow);

// The .flo bytes of `flow` (what write_flo writes).
std::string encode_flo(const FlowField& flow);

// Reads a .flo file. Error(Input) "<path>: …" when it cannot be opened, the magic is wrong, the
// width or height is not positive, or the file size is not 12 + 8·W·H (truncated or trailing
// bytes); Error(Limit) when the header announces more than limits.max_pixels pixels (checked
// before anything is allocated).
FlowField read_flo(const std::string& path, const FloLimits& limits = {});
FlowField decode_flo(const uint8_t* bytes, size_t size, const std::string& name, const FloLimits& limits = {});

}  // namespace perceiver
