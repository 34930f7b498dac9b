#include "tensor/tensor.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "common/error.h"

namespace perceiver {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I64: return 8;
    case DType::U8: return 1;
  }
  return 0;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
  }
  return "?";
}

std::string shape_to_string(const Shape& shape) {
  std::ostringstream out;
  out << '[';
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

void tensor_dtype_mismatch(DType have, DType want) {
  if (have == want) fail(ErrorKind::Internal, "write access to a read-only tensor view");
  fail(ErrorKind::Internal, std::string("tensor holds ") + dtype_name(have) + ", accessed as " + dtype_name(want));
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t = uninitialized(dtype, std::move(shape));
  std::memset(t.data_, 0, (std::max<size_t>(t.nbytes(), 1) + 63) / 64 * 64);
  return t;
}

Tensor Tensor::uninitialized(DType dtype, Shape shape) {
  for (int64_t d : shape)
    if (d < 0) fail(ErrorKind::Internal, "negative tensor dimension in " + shape_to_string(shape));
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  // Round up to whole cache lines; aligned_alloc needs a size that is a multiple of the alignment.
  const size_t bytes = (std::max<size_t>(t.nbytes(), 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) fail(ErrorKind::Limit, "out of memory allocating a tensor of shape " + shape_to_string(t.shape_));
  t.owner_ = std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); });
  t.data_ = p;
  t.writable_ = true;
  return t;
}

Tensor Tensor::view(DType dtype, Shape shape, const void* data, std::shared_ptr<const void> owner, bool file_mapping) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.owner_ = std::move(owner);
  t.data_ = const_cast<void*>(data);
  t.writable_ = false;
  t.file_mapping_ = file_mapping;
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shape_numel(shape) != numel())
    fail(ErrorKind::Internal, "cannot reshape " + shape_to_string(shape_) + " to " + shape_to_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = uninitialized(dtype_, shape_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

void Tensor::release_mapped_pages() const {
  if (!file_mapping_ || !data_) return;
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data_) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data_) + nbytes()) / page * page;
  // A read-only private file mapping: MADV_DONTNEED only drops this process's page references.
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

Tensor Tensor::to_f32() const {
  if (dtype_ == DType::F32) return *this;
  Tensor t = f32(shape_);
  float* out = t.mutable_data<float>();
  const int64_t n = numel();
  if (dtype_ == DType::F16 || dtype_ == DType::BF16) {
    uint16_t bits;
    for (int64_t i = 0; i < n; ++i) {
      std::memcpy(&bits, static_cast<const char*>(data_) + 2 * i, 2);  // data may be unaligned
      out[i] = dtype_ == DType::F16 ? f16_to_f32(bits) : bf16_to_f32(bits);
    }
    return t;
  }
  fail(ErrorKind::Internal, std::string("cannot convert ") + dtype_name(dtype_) + " to F32");
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf / nan
  } else if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do { ++e; mantissa <<= 1; } while ((mantissa & 0x400) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mantissa & 0x3ff) << 13;
    }
  } else {
    bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet nan
  bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

uint16_t f32_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t abs = bits & 0x7fffffff;
  if (abs > 0x7f800000) return sign | 0x7e00;             // nan
  if (abs >= 0x477ff000) return sign | 0x7c00;            // overflow to inf (>= 65520)
  if (abs < 0x33000001) return sign;                      // underflow to zero
  int exponent = static_cast<int>(abs >> 23) - 127 + 15;
  uint32_t mantissa = (abs & 0x7fffff) | 0x800000;
  int shift = exponent <= 0 ? 14 - exponent : 13;         // subnormals shift further
  if (exponent <= 0) exponent = 0;
  uint32_t rounded = mantissa >> shift;
  const uint32_t rest = mantissa & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rest > half || (rest == half && (rounded & 1))) ++rounded;
  // `rounded` carries the implicit bit for normals; adding lets a carry bump the exponent.
  const uint32_t out = exponent == 0 ? rounded : (static_cast<uint32_t>(exponent - 1) << 10) + rounded;
  return sign | static_cast<uint16_t>(out);
}

}  // namespace perceiver
