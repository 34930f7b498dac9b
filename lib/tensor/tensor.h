// Tensor: a dtype, a row-major shape and a byte buffer that is either owned or borrowed
// (a view into a memory-mapped file, kept alive by a shared owner handle).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace perceiver {

enum class DType { F32, F16, BF16, I64, U8 };

using Shape = std::vector<int64_t>;

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // safetensors spelling: "F32", "I64", ...
std::string shape_to_string(const Shape& shape);  // "[2, 64, 262]"
int64_t shape_numel(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;

  // A new zero-filled tensor that owns its storage (64-byte aligned).
  static Tensor zeros(DType dtype, Shape shape);
  static Tensor f32(Shape shape) { return zeros(DType::F32, std::move(shape)); }
  // The same without the zero fill, for results that are about to be written in full.
  static Tensor uninitialized(DType dtype, Shape shape);
  static Tensor f32_uninitialized(Shape shape) { return uninitialized(DType::F32, std::move(shape)); }
  // A view of `data`; `owner` keeps the underlying buffer (e.g. a mapping) alive.
  // `file_mapping`: the buffer is a read-only file mapping (see release_mapped_pages).
  static Tensor view(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner,
                     bool file_mapping = false);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t rank() const { return shape_.size(); }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool empty() const { return data_ == nullptr && numel() == 0; }
  bool defined() const { return data_ != nullptr || !shape_.empty(); }

  // Typed access; throws when T does not match the dtype.
  template <typename T> const T* data() const;
  template <typename T> T* mutable_data();
  const void* raw() const { return data_; }

  // The same bytes under another shape with the same element count.
  Tensor reshaped(Shape shape) const;
  // A deep copy that owns its storage.
  Tensor clone() const;
  // Float16/BFloat16/F32 converted to an owned F32 tensor (F32 input is returned as is).
  Tensor to_f32() const;
  // For a view into a mapped file: gives the pages lying wholly inside this tensor back to the
  // page cache (they are read again from the file if touched). Called once weights have been
  // packed elsewhere, so a model does not keep two resident copies. No effect on owned tensors.
  void release_mapped_pages() const;

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  std::shared_ptr<const void> owner_;
  void* data_ = nullptr;
  bool writable_ = false;
  bool file_mapping_ = false;
};

float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_f16(float f);
uint16_t f32_to_bf16(float f);

}  // namespace perceiver

namespace perceiver {

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }
template <> constexpr DType dtype_of<uint16_t>() { return DType::F16; }  // raw 16-bit storage

void tensor_dtype_mismatch(DType have, DType want);  // throws

template <typename T> const T* Tensor::data() const {
  constexpr DType want = dtype_of<T>();
  const bool ok = dtype_ == want || (want == DType::F16 && dtype_ == DType::BF16);
  if (!ok) tensor_dtype_mismatch(dtype_, want);
  return static_cast<const T*>(data_);
}

template <typename T> T* Tensor::mutable_data() {
  if (!writable_) tensor_dtype_mismatch(dtype_, dtype_);  // a borrowed view is read-only
  return const_cast<T*>(data<T>());
}

}  // namespace perceiver
