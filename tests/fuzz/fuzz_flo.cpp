// Fuzz target: Middlebury .flo files (lib/media/flo.h), then the colour-wheel rendering of the
// field (lib/media/flow_color.h), auto-scaled and with a fixed scale, and a round trip through
// encode_flo.
#include <cstring>
#include <string>

#include "fuzz_common.h"
#include "media/flo.h"
#include "media/flow_metrics.h"
#include "media/flow_color.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace perceiver;
  fuzz::fuzz_guard([&] {
    FloLimits limits;
    limits.max_pixels = 1 << 16;
    const FlowField flow = decode_flo(data, size, "fuzz.flo", limits);
    if (flow.width <= 0 || flow.height <= 0 || flow.uv.size() != static_cast<size_t>(flow.width * flow.height * 2)) {
      std::fprintf(stderr, "FUZZ FINDING: decode_flo returned an inconsistent field\n");
      std::abort();
    }
    const Image auto_scaled = flow_to_color(flow);
    const Image fixed = flow_to_color(flow, 3.5);
    if (auto_scaled.rgb.size() != flow.uv.size() / 2 * 3 || fixed.rgb.size() != auto_scaled.rgb.size()) {
      std::fprintf(stderr, "FUZZ FINDING: flow_to_color returned an image of the wrong size\n");
      std::abort();
    }
    const std::string encoded = encode_flo(flow);
    if (encoded.size() != size || std::memcmp(encoded.data(), data, size) != 0) {
      std::fprintf(stderr, "FUZZ FINDING: encode_flo(decode_flo(x)) != x\n");
      std::abort();
    }
    FlowErrorSums sums;
    sums.add(flow, flow);
    fuzz::keep(sums.epe());
  });
  return 0;
}
