#include "media/flow_metrics.h"

#include <cmath>
#include <string>

#include "common/error.h"

namespace perceiver {

void FlowErrorSums::add(const FlowField& flow, const FlowField& truth) {
  if (flow.width != truth.width || flow.height != truth.height)
    fail(ErrorKind::Input, "the ground truth is " + std::to_string(truth.width) + "×" + std::to_string(truth.height) +
                               " but the flow is " + std::to_string(flow.width) + "×" + std::to_string(flow.height));
  for (size_t i = 0; i + 1 < truth.uv.size(); i += 2) {
    const float gu = truth.uv[i], gv = truth.uv[i + 1];
    if (!flow_is_known(gu, gv)) continue;
    const double du = static_cast<double>(flow.uv[i]) - gu, dv = static_cast<double>(flow.uv[i + 1]) - gv;
    const double epe = std::sqrt(du * du + dv * dv);
    const double magnitude = std::sqrt(static_cast<double>(gu) * gu + static_cast<double>(gv) * gv);
    epe_sum += epe;
    ++pixels;
    under_1 += epe < 1;
    under_3 += epe < 3;
    under_5 += epe < 5;
    outliers += epe > kOutlierPixels && epe > kOutlierFraction * magnitude;
  }
  ++pairs;
}

void FlowErrorSums::add(const FlowErrorSums& other) {
  epe_sum += other.epe_sum;
  pixels += other.pixels;
  under_1 += other.under_1;
  under_3 += other.under_3;
  under_5 += other.under_5;
  outliers += other.outliers;
  pairs += other.pairs;
}

}  // namespace perceiver
