// pytorch_model.bin: PyTorch's zip serialisation (torch.save since 1.6) of a state_dict, read
// without Python. The file is mapped; its ZIP directory is validated (zip_archive.h); data.pkl
// is run through the closed pickle machine (pickle_machine.h), which yields tensor records; each
// record is checked against its storage (the stored entry <prefix>/data/<key>) and becomes a view
// into the mapping when it is contiguous and aligned, or a copy otherwise (strided tensors are
// gathered element by element after their extent was checked).
// Storage types read: float32, float16, bfloat16 and int64. Legacy (pre-1.6) files, TorchScript
// archives and compressed entries are refused with a message saying so.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "checkpoint/pickle_machine.h"
#include "checkpoint/weights_limits.h"
#include "checkpoint/zip_archive.h"
#include "tensor/tensor.h"

namespace perceiver {

struct PytorchCheckpointLimits {
  uint64_t max_pickle_bytes = 256ull << 20;  // data.pkl; a state_dict's is a few hundred kB
  bool verify_crc = true;                    // CRC-32 of data.pkl and of every storage used
  // Tensors that cannot be views (strided, misaligned, or an in-memory image) are copied; all
  // copies together may take at most the file's size plus this many bytes, so a small hostile
  // file cannot expand a one-element storage (stride 0) into terabytes.
  uint64_t copy_allowance_bytes = 256ull << 20;
  ZipLimits zip;
  PickleLimits pickle;
};

struct PytorchCheckpoint {
  std::string path;
  // In the state_dict's order; views into the mapping, or owned copies.
  std::vector<std::pair<std::string, Tensor>> tensors;

  const Tensor* find(const std::string& name) const;
};

// Maps and reads `path`. Error(ModelMissing) if absent; Error(ModelFormat) naming the file and
// the fault for everything else (not a zip, bad directory, a refused opcode or global, a
// persistent id without its entry, a storage shorter than its tensors, ...).
PytorchCheckpoint read_pytorch_checkpoint(const std::string& path, const PytorchCheckpointLimits& limits = {});

// The same over an in-memory image (tests, fuzzing): every tensor is copied.
PytorchCheckpoint parse_pytorch_checkpoint(const void* bytes, size_t size, const std::string& name,
                                           const PytorchCheckpointLimits& limits = {});

// The tensors of a model folder as stored (no dtype conversion), whichever of the four hub
// layouts it has, tried in this order: model.safetensors, model.safetensors.index.json,
// pytorch_model.bin, pytorch_model.bin.index.json. `source` is the file read (for messages).
struct CheckpointTensors {
  std::string source;
  std::vector<std::pair<std::string, Tensor>> tensors;
};
CheckpointTensors read_checkpoint_folder(const std::string& model_dir, const WeightsLimits& limits = {});

// A sharded checkpoint: the index's "weight_map" maps each tensor to a shard file beside it
// (a plain file name). Every shard is read once; a tensor must be in the shard the map names,
// and no tensor may appear in two shards. Shards are read with read_pytorch_checkpoint when
// their name ends in ".bin", else as safetensors.
CheckpointTensors read_sharded_checkpoint(const std::string& index_path, const WeightsLimits& limits = {});

}  // namespace perceiver
