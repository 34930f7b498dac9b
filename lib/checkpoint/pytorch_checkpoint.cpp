#include "checkpoint/pytorch_checkpoint.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "checkpoint/safetensors.h"
#include "common/error.h"
#include "common/input_file.h"
#include "common/json.h"

namespace perceiver {

// Storage bytes are viewed in place: PyTorch writes them in the host's order, and files saved on
// big-endian hosts say so in a "byteorder" entry (refused below).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "pytorch_model.bin storages are little-endian");

namespace {

namespace fs = std::filesystem;

struct Reporter {
  const std::string& source;
  [[noreturn]] void fault(const std::string& what) const { fail(ErrorKind::ModelFormat, source + ": " + what); }
};

std::string tensor_label(const std::string& name) { return "tensor " + quote_for_message(name); }

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The archive's one top-level folder: the prefix of its "<prefix>/data.pkl".
std::string find_prefix(const ZipArchive& zip, const Reporter& report) {
  std::vector<std::string> prefixes;
  bool torchscript = false;
  for (const ZipEntry& entry : zip.entries()) {
    const size_t slash = entry.name.find('/');
    if (slash == std::string::npos) continue;
    const std::string rest = entry.name.substr(slash + 1);
    if (rest == "data.pkl") prefixes.push_back(entry.name.substr(0, slash));
    if (rest == "constants.pkl" || rest.rfind("code/", 0) == 0) torchscript = true;
  }
  if (prefixes.empty()) {
    if (torchscript) report.fault("a TorchScript archive (torch.jit.save), not a state_dict saved with torch.save");
    report.fault("a ZIP archive without a <folder>/data.pkl entry: not a PyTorch checkpoint");
  }
  if (prefixes.size() > 1)
    report.fault("several data.pkl entries (" + quote_for_message(prefixes[0]) + ", " + quote_for_message(prefixes[1]) +
                 "): not a PyTorch checkpoint");
  return prefixes[0];
}

void check_byteorder(const ZipArchive& zip, const std::string& prefix, const Reporter& report) {
  const ZipEntry* entry = zip.find(prefix + "/byteorder");
  if (!entry) return;  // older files: always little-endian
  if (entry->size > 16) report.fault("entry " + quote_for_message(entry->name) + " is not a byte order");
  const std::string order(reinterpret_cast<const char*>(zip.data(*entry)), static_cast<size_t>(entry->size));
  if (order != "little")
    report.fault("storages are " + quote_for_message(order) + "-endian; only little-endian checkpoints are read");
}

// A storage resolved against its entry: where its bytes are and how many.
struct StorageBytes {
  const unsigned char* data = nullptr;
  uint64_t numel = 0;
};

bool is_contiguous(const Shape& shape, const std::vector<int64_t>& stride) {
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && stride[i] != expected) return false;
    expected *= shape[i];  // no overflow: numel was checked
  }
  return true;
}

// Copies a strided tensor element by element; every index was checked to be inside the storage.
void gather(const unsigned char* base, size_t element, const Shape& shape, const std::vector<int64_t>& stride,
            unsigned char* out) {
  const size_t rank = shape.size();
  const int64_t numel = shape_numel(shape);
  if (numel == 0) return;
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;  // in elements, relative to base
  for (int64_t n = 0; n < numel; ++n) {
    std::memcpy(out + static_cast<size_t>(n) * element, base + static_cast<size_t>(offset) * element, element);
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) {
        offset += stride[d];
        break;
      }
      offset -= stride[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

// Turns the pickled records into tensors; everything is checked before anything is copied.
std::vector<std::pair<std::string, Tensor>> build_tensors(const ZipArchive& zip, const std::string& prefix,
                                                          const PickledStateDict& state, size_t file_size,
                                                          const std::shared_ptr<const void>& owner,
                                                          const PytorchCheckpointLimits& limits,
                                                          const Reporter& report) {
  // Storages: each must be a stored entry at least as long as the persistent id says.
  std::vector<StorageBytes> storages;
  for (const PickledStorage& storage : state.storages) {
    const std::string entry_name = prefix + "/data/" + storage.key;
    const ZipEntry* entry = zip.find(entry_name);
    if (!entry)
      report.fault("persistent id names storage " + quote_for_message(storage.key) + ", but the archive has no entry " +
                   quote_for_message(entry_name));
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(storage.numel, dtype_size(storage.dtype), &bytes) || bytes > entry->size)
      report.fault("storage " + quote_for_message(storage.key) + " (" + storage.type_name + ", " +
                   std::to_string(storage.numel) + " elements) is longer than its entry " +
                   quote_for_message(entry_name) + " (" + std::to_string(entry->size) + " bytes)");
    const unsigned char* data = zip.data(*entry);  // refuses compressed entries
    if (limits.verify_crc) zip.verify_crc(*entry);
    storages.push_back({data, storage.numel});
  }

  // Tensors: shape, extent inside the storage, then a view or a copy.
  uint64_t copied = 0;
  const uint64_t copy_budget = file_size + limits.copy_allowance_bytes;
  std::vector<std::pair<std::string, Tensor>> tensors;
  tensors.reserve(state.tensors.size());
  for (const PickledTensor& record : state.tensors) {
    const PickledStorage& storage = state.storages[record.storage];
    const StorageBytes& bytes = storages[record.storage];
    const std::string label = tensor_label(record.name);
    const size_t element = dtype_size(storage.dtype);
    int64_t numel = 1;
    for (int64_t dim : record.shape)
      if (__builtin_mul_overflow(numel, dim, &numel))
        report.fault(label + " shape " + shape_to_string(record.shape) + " is too large");
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(numel), element, &nbytes))
      report.fault(label + " shape " + shape_to_string(record.shape) + " is too large");
    // The last element's index: offset + sum (size_i - 1) * stride_i, all without overflow.
    if (static_cast<uint64_t>(record.offset) > bytes.numel)
      report.fault(label + " starts at element " + std::to_string(record.offset) + ", past the end of its storage " +
                   quote_for_message(storage.key) + " (" + std::to_string(bytes.numel) + " elements)");
    int64_t last = record.offset;
    if (numel > 0) {
      for (size_t d = 0; d < record.shape.size(); ++d) {
        int64_t step = 0;
        if (__builtin_mul_overflow(record.shape[d] - 1, record.stride[d], &step) ||
            __builtin_add_overflow(last, step, &last))
          report.fault(label + " offset " + std::to_string(record.offset) + " and strides " +
                       shape_to_string(record.stride) + " overflow");
      }
      if (static_cast<uint64_t>(last) >= bytes.numel)
        report.fault(label + " " + storage.type_name + " " + shape_to_string(record.shape) + " at offset " +
                     std::to_string(record.offset) + " with strides " + shape_to_string(record.stride) +
                     " reaches element " + std::to_string(last) + ", past the end of its storage " +
                     quote_for_message(storage.key) + " (" + std::to_string(bytes.numel) + " elements)");
    }

    const unsigned char* base = bytes.data + static_cast<size_t>(record.offset) * element;
    const bool contiguous = numel == 0 || is_contiguous(record.shape, record.stride);
    const bool aligned = reinterpret_cast<uintptr_t>(base) % element == 0;
    if (owner && contiguous && aligned && numel > 0) {
      tensors.emplace_back(record.name, Tensor::view(storage.dtype, record.shape, base, owner, /*file_mapping=*/true));
      continue;
    }
    if (__builtin_add_overflow(copied, nbytes, &copied) || copied > copy_budget)
      report.fault(label + " " + shape_to_string(record.shape) +
                   " would take the copied tensors past the file size plus " +
                   std::to_string(limits.copy_allowance_bytes) + " bytes (a broadcast tensor beyond what a state_dict holds)");
    Tensor copy = Tensor::zeros(storage.dtype, record.shape);
    // raw() is const only because views are read-only; this tensor owns fresh writable storage.
    auto* out = static_cast<unsigned char*>(const_cast<void*>(copy.raw()));
    if (contiguous) {
      if (nbytes) std::memcpy(out, base, static_cast<size_t>(nbytes));
    } else {
      gather(base, element, record.shape, record.stride, out);
    }
    tensors.emplace_back(record.name, std::move(copy));
  }
  return tensors;
}

PytorchCheckpoint build_checkpoint(const unsigned char* bytes, size_t size, const std::string& source,
                                   const std::shared_ptr<const void>& owner, const PytorchCheckpointLimits& limits) {
  const Reporter report{source};
  // Before PyTorch 1.6 (and with _use_new_zipfile_serialization=False) torch.save wrote a bare
  // sequence of pickles; it starts with the pickle PROTO opcode instead of a ZIP header.
  if (size >= 2 && bytes[0] == 0x80 && bytes[1] <= 5)
    report.fault("a legacy PyTorch file (pickles without a ZIP archive, torch < 1.6); only the ZIP format of "
                 "torch.save since 1.6 is read: re-save it with torch.save in a current PyTorch");
  const ZipArchive zip(bytes, size, source, ErrorKind::ModelFormat, limits.zip);
  const std::string prefix = find_prefix(zip, report);
  check_byteorder(zip, prefix, report);
  const ZipEntry& pickle = *zip.find(prefix + "/data.pkl");
  if (pickle.size > limits.max_pickle_bytes)
    fail(ErrorKind::Limit, source + ": entry " + quote_for_message(pickle.name) + " holds " +
                               std::to_string(pickle.size) + " bytes, more than the limit of " +
                               std::to_string(limits.max_pickle_bytes) + " (raise it with --max-header-bytes)");
  const unsigned char* program = zip.data(pickle);
  if (limits.verify_crc) zip.verify_crc(pickle);
  const PickledStateDict state =
      unpickle_state_dict(program, static_cast<size_t>(pickle.size), source, pickle.name, limits.pickle);
  PytorchCheckpoint checkpoint;
  checkpoint.path = source;
  checkpoint.tensors = build_tensors(zip, prefix, state, size, owner, limits, report);
  return checkpoint;
}

// ---- folders and shards -------------------------------------------------------------------------

std::vector<std::pair<std::string, Tensor>> read_any(const std::string& path, const WeightsLimits& limits) {
  if (ends_with(path, ".bin")) {
    PytorchCheckpointLimits pytorch;
    pytorch.max_pickle_bytes = limits.max_header_bytes;  // data.pkl is a .bin file's header
    pytorch.pickle.max_tensors = limits.max_tensors;
    return read_pytorch_checkpoint(path, pytorch).tensors;
  }
  SafetensorsLimits safetensors;
  safetensors.max_header_bytes = limits.max_header_bytes;
  safetensors.max_tensors = limits.max_tensors;
  return read_safetensors(path, ErrorKind::ModelFormat, safetensors).tensors;
}

}  // namespace

const Tensor* PytorchCheckpoint::find(const std::string& name) const {
  for (const auto& [tensor_name, tensor] : tensors)
    if (tensor_name == name) return &tensor;
  return nullptr;
}

PytorchCheckpoint read_pytorch_checkpoint(const std::string& path, const PytorchCheckpointLimits& limits) {
  const MappedFile file = map_file(path);
  return build_checkpoint(file.data, file.size, path, file.owner, limits);
}

PytorchCheckpoint parse_pytorch_checkpoint(const void* bytes, size_t size, const std::string& name,
                                           const PytorchCheckpointLimits& limits) {
  if (size && !bytes) fail(ErrorKind::Internal, name + ": null buffer of " + std::to_string(size) + " bytes");
  // No owner: the caller's buffer may not outlive the result, so every tensor is copied.
  return build_checkpoint(static_cast<const unsigned char*>(bytes), size, name, nullptr, limits);
}

CheckpointTensors read_sharded_checkpoint(const std::string& index_path, const WeightsLimits& limits) {
  require_regular_file(index_path, ErrorKind::ModelFormat, ErrorKind::ModelMissing);
  // The index is the sharded model's header: the same limit.
  const std::string index_text =
      read_input_file(index_path, {limits.max_header_bytes, "--max-header-bytes"}, ErrorKind::ModelFormat);
  const nlohmann::json index = parse_json(index_text, index_path, ErrorKind::ModelFormat);
  const auto map = index.is_object() ? index.find("weight_map") : index.end();
  if (!index.is_object() || map == index.end() || !map->is_object())
    fail(ErrorKind::ModelFormat, index_path + ": no \"weight_map\" object");
  const fs::path dir = fs::path(index_path).parent_path();
  std::map<std::string, std::string> shard_of;  // tensor -> shard
  std::vector<std::string> shards;              // in first-mention order
  for (const auto& [name, shard] : map->items()) {
    if (!shard.is_string())
      fail(ErrorKind::ModelFormat, index_path + ": shard of " + quote_for_message(name) + " is not a file name");
    const std::string file = shard.get<std::string>();
    if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..")
      fail(ErrorKind::ModelFormat, index_path + ": shard " + quote_for_message(file) + " is not a plain file name");
    shard_of[name] = file;
    if (std::find(shards.begin(), shards.end(), file) == shards.end()) shards.push_back(file);
  }
  CheckpointTensors out;
  out.source = index_path;
  std::map<std::string, std::string> found_in;
  for (const std::string& shard : shards) {
    const std::string path = (dir / shard).string();
    for (auto& [name, tensor] : read_any(path, limits)) {
      if (!found_in.emplace(name, shard).second)
        fail(ErrorKind::ModelFormat, path + ": " + tensor_label(name) + " appears in two shards");
      out.tensors.emplace_back(name, std::move(tensor));
    }
  }
  for (const auto& [name, shard] : shard_of) {
    const auto it = found_in.find(name);
    if (it == found_in.end() || it->second != shard)
      fail(ErrorKind::ModelFormat, index_path + ": " + tensor_label(name) + " is not in its shard " + quote_for_message(shard));
  }
  return out;
}

CheckpointTensors read_checkpoint_folder(const std::string& model_dir, const WeightsLimits& limits) {
  const fs::path dir(model_dir);
  if (!fs::is_directory(dir)) fail(ErrorKind::ModelMissing, model_dir + ": no such model folder");
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                           "pytorch_model.bin.index.json"}) {
    const fs::path path = dir / name;
    if (!fs::exists(path)) continue;
    if (ends_with(name, ".index.json")) return read_sharded_checkpoint(path.string(), limits);
    return {path.string(), read_any(path.string(), limits)};
  }
  fail(ErrorKind::ModelMissing, model_dir +
                                    ": no weights in the folder (model.safetensors, model.safetensors.index.json, "
                                    "pytorch_model.bin or pytorch_model.bin.index.json)");
}

}  // namespace perceiver
