// Optical-flow files besides .flo, chosen by extension: the KITTI 2015 16-bit PNGs (the
// flow_occ / flow_noc ground truth), NumPy .npy arrays (what Python tools np.load) and the PFM
// files of FlyingThings3D's ground truth (read only).
//
// KITTI PNG: 16-bit RGB, (R, G, B) = (u·64 + 2^15, v·64 + 2^15, valid); B = 0 marks a pixel of
// unknown flow. Written: round(x·64 + 2^15) clamped to [0, 65535] (|u|, |v| ≥ 512 saturate), so
// known flow comes back within 1/128 px; unknown pixels are (2^15, 2^15, 0).
// .npy: format 1.0, dtype '<f4', C order, shape (H, W, 2), the data 64-byte aligned.
// .pfm: "PF", W, H, scale (negative: little-endian) separated by whitespace, one whitespace
// character, then float32 (u, v, ignored) triples, rows from bottom to top.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "media/flo.h"

namespace perceiver {

enum class FlowFileFormat { Flo, KittiPng, Npy, Pfm };

// What a pixel marked invalid in a KITTI PNG reads as, in both components: flow_is_known() is
// false for it (it is above kUnknownFlowThreshold).
constexpr float kUnknownFlowValue = 1e10f;

// The format named by the extension of `path`, case-insensitive: .flo, .png (KITTI), .npy, .pfm;
// a name without an extension is .flo. Error(Usage) "<path>: …" naming the accepted extensions
// otherwise.
FlowFileFormat flow_format_of(const std::string& path);

// The same for a file to write, so that a tool can refuse its -o before any work: .pfm is
// refused too (Error(Usage)), only .flo, .png and .npy are written.
FlowFileFormat flow_output_format_of(const std::string& path);

// The bytes of `flow` in `format`. Error(Internal) for Pfm or a malformed field; Error(Limit)
// for a field too large for a PNG (over 2 GiB of samples) or when memory runs out.
std::string encode_flow_file(FlowFileFormat format, const FlowField& flow);

// Writes `flow` in the format of the extension of `path`, atomically (whole or not at all).
// Error(Usage) for an extension that is not written; Error(Output) when writing fails.
void write_flow_file(const std::string& path, const FlowField& flow);

// A flow file's content decoded; `name` starts the messages. Error(Input) "<name>: …" for a
// malformed file (a truncated one, trailing bytes, an 8-bit or grayscale PNG, a .npy of another
// dtype or shape, a one-channel "Pf" PFM); Error(Limit) when the header announces more than
// limits.max_pixels pixels, checked before any pixel memory is taken.
FlowField decode_flow_file(FlowFileFormat format, const uint8_t* bytes, size_t size, const std::string& name,
                           const FloLimits& limits = {});

// Reads `path` in the format of its extension (read_input_file's rules, so a pipe or FIFO works
// too). Error(Limit) "(raise it with --max-pixels)" for a file larger than one of
// limits.max_pixels pixels can be; otherwise as decode_flow_file.
FlowField read_flow_file(const std::string& path, const FloLimits& limits = {});

}  // namespace perceiver
