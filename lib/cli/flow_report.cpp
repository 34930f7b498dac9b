#include "cli/flow_report.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "common/escape.h"

namespace perceiver::cli {

namespace {

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", value);
  return text;
}

nlohmann::json metrics(const FlowErrorSums& s, bool kitti) {
  nlohmann::json j;
  j["pairs"] = s.pairs;
  j["pixels"] = s.pixels;
  if (s.pixels == 0) {  // no valid ground truth: no mean
    for (const char* key : {"epe", "px1", "px3", "px5"}) j[key] = nullptr;
    if (kitti) j["fl_all"] = nullptr;
    return j;
  }
  j["epe"] = s.epe();
  j["px1"] = s.px1();
  j["px3"] = s.px3();
  j["px5"] = s.px5();
  if (kitti) j["fl_all"] = s.fl_all();
  return j;
}

std::string columns(const FlowErrorSums& s, bool kitti) {
  std::string text = std::to_string(s.pairs) + '\t' + std::to_string(s.pixels);
  if (s.pixels == 0) return text + (kitti ? "\tnan\tnan\tnan\tnan\tnan" : "\tnan\tnan\tnan\tnan");
  text += '\t' + number(s.epe()) + '\t' + number(s.px1()) + '\t' + number(s.px3()) + '\t' + number(s.px5());
  if (kitti) text += '\t' + number(s.fl_all());
  return text;
}

}  // namespace

FlowReport::FlowReport(std::ostream& out, bool json, bool kitti, bool noc) : out_(out), json_(json), kitti_(kitti), noc_(noc) {}

void FlowReport::add(const std::string& set, const std::string& group, const FlowErrorSums& all, const FlowErrorSums* noc) {
  if (have_current_ && (current_.group != group || current_.set != set)) {
    print(current_, false);
    have_current_ = false;
  }
  if (!have_current_) current_ = Sums{set, group, {}, {}}, have_current_ = true;
  current_.all.add(all);
  if (noc) current_.noc.add(*noc);
  Sums* total = nullptr;
  for (Sums& s : sets_)
    if (s.set == set) total = &s;
  if (!total) {
    sets_.push_back(Sums{set, "", {}, {}});
    total = &sets_.back();
  }
  total->all.add(all);
  if (noc) total->noc.add(*noc);
}

void FlowReport::finish() {
  if (have_current_) print(current_, false);
  have_current_ = false;
  for (const Sums& s : sets_) print(s, true);
  out_.flush();
}

void FlowReport::print(const Sums& sums, bool total) {
  if (json_) {
    nlohmann::json line;
    if (total) {
      line["set"] = sums.set;
    } else if (kitti_) {
      line["image"] = sums.group;
    } else {  // "<pass>/<scene>"
      const size_t slash = sums.group.find('/');
      line["pass"] = sums.group.substr(0, slash);
      line["scene"] = sums.group.substr(slash + 1);
    }
    line.update(metrics(sums.all, kitti_));
    if (noc_) line["noc"] = metrics(sums.noc, kitti_);
    out_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    if (!header_done_) {
      std::string header = std::string("# ") + (kitti_ ? "image" : "scene") + "\tpairs\tpixels\tepe\tpx1\tpx3\tpx5";
      if (kitti_) header += "\tfl_all";
      if (noc_) header += kitti_ ? "\tnoc_pixels\tnoc_epe\tnoc_px1\tnoc_px3\tnoc_px5\tnoc_fl_all" : "";
      out_ << header << '\n';
      header_done_ = true;
    }
    std::string line = escape_control(total ? sums.set : sums.group, true) + '\t' + columns(sums.all, kitti_);
    if (noc_) {
      const std::string noc = columns(sums.noc, kitti_);
      line += noc.substr(noc.find('\t'));  // the pairs column once
    }
    out_ << line << '\n';
  }
  out_.flush();
}

}  // namespace perceiver::cli
