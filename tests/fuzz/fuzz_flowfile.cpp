// Fuzz target: the flow files besides .flo (lib/media/flow_formats.h): the same bytes through the
// KITTI 16-bit PNG, .npy and .pfm decoders; what decodes must be a consistent field, and a field
// written as .npy or KITTI PNG must decode back (exactly, or within KITTI's 1/128 px).
#include <cmath>
#include <cstring>
#include <string>

#include "fuzz_common.h"
#include "media/flow_formats.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FUZZ FINDING: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perceiver;
  FloLimits limits;
  limits.max_pixels = 1 << 14;
  for (FlowFileFormat format : {FlowFileFormat::KittiPng, FlowFileFormat::Npy, FlowFileFormat::Pfm}) {
    fuzz::fuzz_guard([&] {
      const FlowField flow = decode_flow_file(format, data, size, "fuzz", limits);
      check(flow.width > 0 && flow.height > 0 && flow.uv.size() == static_cast<size_t>(flow.width * flow.height * 2),
            "decode_flow_file returned an inconsistent field");
      const std::string npy = encode_flow_file(FlowFileFormat::Npy, flow);
      const FlowField again = decode_flow_file(FlowFileFormat::Npy, reinterpret_cast<const uint8_t*>(npy.data()), npy.size(), "npy");
      for (size_t i = 0; i < flow.uv.size(); ++i)
        check(std::memcmp(&again.uv[i], &flow.uv[i], sizeof(float)) == 0, ".npy round trip changed a value");
      const std::string png = encode_flow_file(FlowFileFormat::KittiPng, flow);
      const FlowField kitti = decode_flow_file(FlowFileFormat::KittiPng, reinterpret_cast<const uint8_t*>(png.data()), png.size(), "png");
      for (size_t i = 0; i + 1 < flow.uv.size(); i += 2) {
        const bool known = flow_is_known(flow.uv[i], flow.uv[i + 1]);
        check(known == flow_is_known(kitti.uv[i], kitti.uv[i + 1]), "KITTI PNG round trip changed validity");
        if (known && std::fabs(flow.uv[i]) < 500 && std::fabs(flow.uv[i + 1]) < 500)
          check(std::fabs(kitti.uv[i] - flow.uv[i]) <= 1.0 / 128 + 1e-3 && std::fabs(kitti.uv[i + 1] - flow.uv[i + 1]) <= 1.0 / 128 + 1e-3,
                "KITTI PNG round trip moved a value by more than 1/128 px");
      }
    });
  }
  return 0;
}
