// The metric lines of a flow dataset evaluation (perceiver-flow --sintel / --kitti), on stdout:
// one line per scene (Sintel) or image (KITTI) as soon as its last pair is done, then one line
// per set (a Sintel pass, or all of KITTI) at the end. Text is tab-separated under a '#' header;
// JSON lines carry the same fields by name. The fields: pairs, pixels (valid ground-truth
// pixels), epe, px1, px3, px5, and with KITTI fl_all plus the same for the non-occluded ground
// truth ("noc") when the tree has flow_noc/. Every mean is over pixels (media/flow_metrics.h), so
// shards combine: Σ epe·pixels / Σ pixels.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "media/flow_metrics.h"

namespace perceiver::cli {

class FlowReport {
 public:
  // `kitti`: the Fl-all column and "image" lines; `noc`: non-occluded columns too.
  FlowReport(std::ostream& out, bool json, bool kitti, bool noc);
  // One evaluated pair of `group` in `set` (`noc` may be null).
  void add(const std::string& set, const std::string& group, const FlowErrorSums& all, const FlowErrorSums* noc);
  // The last group's line and every set's total.
  void finish();

 private:
  struct Sums {
    std::string set, group;
    FlowErrorSums all, noc;
  };
  void print(const Sums& sums, bool total);
  std::ostream& out_;
  bool json_, kitti_, noc_;
  bool header_done_ = false;
  Sums current_;
  bool have_current_ = false;
  std::vector<Sums> sets_;
};

}  // namespace perceiver::cli
