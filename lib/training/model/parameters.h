// The trainable tensors of a model under their HF names, each with its gradient. Models add
// their parameters once and keep pointers (stable: each parameter is its own allocation).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace perceiver::training {

template <typename T>
struct Parameter {
  std::string name;              // HF tensor name, e.g. "perceiver.encoder.self_attends.0.mlp.dense1.weight"
  std::vector<int64_t> shape;
  std::vector<T> value, grad;    // both numel() long
  bool weight_decay = false;     // matrices decay; biases, norms and 1-D tensors do not

  int64_t numel() const { return static_cast<int64_t>(value.size()); }
  T* data() { return value.data(); }
  const T* data() const { return value.data(); }
};

// How a new parameter starts: Normal is N(0, 0.02²) (HF's initializer_range; embeddings,
// position tables, latents, queries), FanIn is N(0, 1/fan_in) for Linear and conv weights, ones
// and zeros for LayerNorm and biases. HF initialises Linear weights with 0.02 too, which for its
// widths (fan_in 768–1280) is about 1/√fan_in; for small models 0.02 leaves every attention
// score near zero, all queries attend uniformly, and training stalls on a plateau (a tiny MLM
// could not memorise one window in 800 steps with 0.02, and did in 100 with 1/√fan_in).
enum class Init { Normal, FanIn, Ones, Zeros };

template <typename T>
class ParameterSet {
 public:
  Parameter<T>& add(const std::string& name, std::vector<int64_t> shape, Init init) {
    if (find(name)) fail(ErrorKind::Internal, "parameter " + name + " added twice");
    auto p = std::make_unique<Parameter<T>>();
    p->name = name;
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    p->shape = std::move(shape);
    p->value.assign(static_cast<size_t>(count), init == Init::Ones ? static_cast<T>(1) : static_cast<T>(0));
    p->grad.assign(static_cast<size_t>(count), static_cast<T>(0));
    p->weight_decay = p->shape.size() >= 2;
    inits_.push_back(init);
    params_.push_back(std::move(p));
    return *params_.back();
  }

  Parameter<T>* find(const std::string& name) {
    for (auto& p : params_)
      if (p->name == name) return p.get();
    return nullptr;
  }
  Parameter<T>& at(const std::string& name) {
    if (Parameter<T>* p = find(name)) return *p;
    fail(ErrorKind::Internal, "no parameter " + name);
  }

  size_t size() const { return params_.size(); }
  Parameter<T>& operator[](size_t i) { return *params_[i]; }
  const Parameter<T>& operator[](size_t i) const { return *params_[i]; }
  Init init_of(size_t i) const { return inits_[i]; }

  int64_t total_numel() const {
    int64_t total = 0;
    for (const auto& p : params_) total += p->numel();
    return total;
  }
  void zero_grad() {
    for (auto& p : params_) std::fill(p->grad.begin(), p->grad.end(), static_cast<T>(0));
  }

 private:
  std::vector<std::unique_ptr<Parameter<T>>> params_;
  std::vector<Init> inits_;
};

}  // namespace perceiver::training
