// The optical-flow benchmark metrics, as the Sintel and KITTI 2015 benchmarks define them and
// RAFT's evaluate.py / the KITTI devkit compute them (docs/flow.md, "Metrics"):
//   EPE  = mean over the valid pixels of |flow − gt| (Euclidean end-point error, pixels);
//   px1/px3/px5 = fraction of the valid pixels with EPE < 1, 3, 5;
//   Fl-all (KITTI) = fraction of the valid pixels that are outliers: EPE > 3 px and
//                    EPE > 5 % of |gt|.
// A pixel is valid where the ground truth is known (flow_is_known: Sintel's |u| or |v| > 1e9
// marker, KITTI's valid channel, non-finite values are left out). Sums of a set (a scene, a
// pass, all of KITTI) add pixels, not per-image means: the mean over a set is over its pixels.
#pragma once

#include <cstdint>

#include "media/flo.h"

namespace perceiver {

// KITTI's outlier rule (devkit: an error is tolerated below 3 px or below 5 % of the flow).
constexpr double kOutlierPixels = 3.0;
constexpr double kOutlierFraction = 0.05;

struct FlowErrorSums {
  double epe_sum = 0;
  int64_t pixels = 0;  // valid pixels
  int64_t under_1 = 0, under_3 = 0, under_5 = 0, outliers = 0;
  int64_t pairs = 0;

  // One pair's errors. Error(Input) naming both sizes when `flow` and `truth` differ in size.
  void add(const FlowField& flow, const FlowField& truth);
  void add(const FlowErrorSums& other);

  // 0 for a set without valid pixels (check pixels first).
  double epe() const { return pixels ? epe_sum / static_cast<double>(pixels) : 0; }
  double px1() const { return fraction(under_1); }
  double px3() const { return fraction(under_3); }
  double px5() const { return fraction(under_5); }
  double fl_all() const { return fraction(outliers); }

 private:
  double fraction(int64_t count) const { return pixels ? static_cast<double>(count) / static_cast<double>(pixels) : 0; }
};

}  // namespace perceiver
