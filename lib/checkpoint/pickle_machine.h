// A closed pickle machine for PyTorch state_dicts (the data.pkl inside pytorch_model.bin).
//
// A pickle is a program: a general unpickler imports and calls whatever the stream names. This
// one only knows the opcodes a state_dict uses (protocol 2 as torch.save writes it, plus the
// framing opcodes of protocol 4) and only these globals:
//   collections.OrderedDict                      called with no arguments: an empty dict
//   torch._utils._rebuild_tensor_v2              (storage, offset, size, stride, requires_grad,
//                                                 backward_hooks[, metadata]): a tensor record
//   torch._utils._rebuild_parameter              (tensor, requires_grad, backward_hooks): the tensor
//   torch.FloatStorage / HalfStorage / BFloat16Storage / LongStorage
//                                                only inside persistent ids, never called
// Anything else (another global, another opcode, a REDUCE on anything but the two rebuild
// functions and OrderedDict, a BUILD on anything but a dict) is refused by name. Nothing is
// imported or executed: the machine builds plain values in an arena (no recursion, no reference
// cycles to leak) and returns the records of the tensors it saw; pytorch_checkpoint.cpp resolves
// them against the archive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace perceiver {

struct PickleLimits {
  size_t max_stack = 1u << 20;    // values on the stack (and marks)
  size_t max_memo = 1u << 20;     // memo entries
  size_t max_objects = 1u << 23;  // strings, containers and container items created, in all
  size_t max_tensors = 100000;
};

// One persistent id ("storage", torch.<Type>Storage, key, location, numel), deduplicated by key.
struct PickledStorage {
  std::string key;
  DType dtype = DType::F32;
  std::string type_name;  // "torch.FloatStorage", for messages
  uint64_t numel = 0;     // elements, as the persistent id states
};

// One _rebuild_tensor_v2 call that ended up as a value of the top-level dict.
struct PickledTensor {
  std::string name;
  size_t storage = 0;  // index into PickledStateDict::storages
  int64_t offset = 0;  // elements; non-negative
  Shape shape;         // non-negative
  std::vector<int64_t> stride;  // elements; non-negative, same length as shape
};

struct PickledStateDict {
  std::vector<PickledStorage> storages;
  std::vector<PickledTensor> tensors;  // in the dict's order; names unique
};

// Runs the machine over `bytes`. Errors are Error(ModelFormat) reading
// "<source>: <label> byte <offset>: <what>" (one line). The stream must end in STOP with the
// top-level (Ordered)Dict of name → tensor on the stack; an OrderedDict's BUILD state (the
// `_metadata` attribute) is ignored.
PickledStateDict unpickle_state_dict(const unsigned char* bytes, size_t size, const std::string& source,
                                     const std::string& label = "data.pkl", const PickleLimits& limits = {});

// Text from a file for a one-line message: quoted, control bytes escaped, cut when very long.
std::string quote_for_message(const std::string& text);

}  // namespace perceiver
