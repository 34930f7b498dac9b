#include "checkpoint/pickle_machine.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

#include "common/error.h"

namespace perceiver {

std::string quote_for_message(const std::string& text) {
  constexpr size_t kShown = 200;
  std::string out = "'";
  for (unsigned char c : text.substr(0, kShown)) {
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + (text.size() > kShown ? "...'" : "'");
}

namespace {

// ---- the opcodes --------------------------------------------------------------------------------

enum Op : unsigned char {
  kMark = '(', kStop = '.', kBinFloat = 'G', kBinInt = 'J', kBinInt1 = 'K', kBinInt2 = 'M', kNone = 'N',
  kBinPersId = 'Q', kReduce = 'R', kShortBinString = 'U', kBinUnicode = 'X', kAppend = 'a', kBuild = 'b',
  kGlobal = 'c', kAppends = 'e', kBinGet = 'h', kLongBinGet = 'j', kEmptyList = ']', kBinPut = 'q',
  kLongBinPut = 'r', kSetItem = 's', kTuple = 't', kSetItems = 'u', kEmptyDict = '}', kEmptyTuple = ')',
  kProto = 0x80, kTuple1 = 0x85, kTuple2 = 0x86, kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89,
  kLong1 = 0x8a, kShortBinUnicode = 0x8c, kBinUnicode8 = 0x8d, kStackGlobal = 0x93, kMemoize = 0x94,
  kFrame = 0x95,
};

// Opcodes of the pickle protocols that this machine refuses, by name, for the messages.
const char* refused_opcode_name(unsigned char op) {
  switch (op) {
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'L': return "LONG";
    case 'P': return "PERSID";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'V': return "UNICODE";
    case 'd': return "DICT";
    case 'g': return "GET";
    case 'i': return "INST";
    case 'l': return "LIST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x8b: return "LONG4";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}

// ---- the globals --------------------------------------------------------------------------------

enum class Global { OrderedDict, RebuildTensorV2, RebuildParameter, FloatStorage, HalfStorage, BFloat16Storage, LongStorage };

struct GlobalInfo {
  const char* module;
  const char* name;
  Global global;
};

constexpr GlobalInfo kGlobals[] = {
    {"collections", "OrderedDict", Global::OrderedDict},
    {"torch._utils", "_rebuild_tensor_v2", Global::RebuildTensorV2},
    {"torch._utils", "_rebuild_parameter", Global::RebuildParameter},
    {"torch", "FloatStorage", Global::FloatStorage},
    {"torch", "HalfStorage", Global::HalfStorage},
    {"torch", "BFloat16Storage", Global::BFloat16Storage},
    {"torch", "LongStorage", Global::LongStorage},
};

std::string global_name(Global global) {
  for (const GlobalInfo& info : kGlobals)
    if (info.global == global) return std::string(info.module) + "." + info.name;
  return "?";
}

bool is_storage_type(Global global) {
  return global == Global::FloatStorage || global == Global::HalfStorage || global == Global::BFloat16Storage ||
         global == Global::LongStorage;
}

DType storage_dtype(Global global) {
  switch (global) {
    case Global::HalfStorage: return DType::F16;
    case Global::BFloat16Storage: return DType::BF16;
    case Global::LongStorage: return DType::I64;
    default: return DType::F32;
  }
}

// ---- values -------------------------------------------------------------------------------------

enum class Kind : uint8_t { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor };

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::Tuple: return "tuple";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
  }
  return "?";
}

// A small value; strings, containers, storages and tensors live in arenas and are referred to
// by index, so copying a value (memo, stack) never copies its contents.
struct Value {
  Kind kind = Kind::None;
  int64_t number = 0;  // Bool, Int; Global (the enum); index for String/Tuple/List/Dict/Storage/Tensor
  double real = 0;     // Float
};

struct TensorCall {
  size_t storage = 0;
  int64_t offset = 0;
  Shape shape;
  std::vector<int64_t> stride;
};

class Machine {
 public:
  Machine(const unsigned char* bytes, size_t size, const std::string& source, const std::string& label,
          const PickleLimits& limits)
      : p_(bytes), size_(size), source_(source), label_(label), limits_(limits) {}

  PickledStateDict run();

 private:
  [[noreturn]] void fault(const std::string& what) const {
    fail(ErrorKind::ModelFormat, source_ + ": " + label_ + " byte " + std::to_string(op_at_) + ": " + what);
  }

  // ---- reading the stream
  const unsigned char* take(size_t n) {
    if (size_ - at_ < n) fault("truncated: the pickle ends inside an opcode's argument");
    const unsigned char* here = p_ + at_;
    at_ += n;
    return here;
  }
  uint64_t read_le(size_t n) {
    const unsigned char* b = take(n);
    uint64_t value = 0;
    for (size_t i = n; i-- > 0;) value = (value << 8) | b[i];
    return value;
  }
  std::string read_line() {  // GLOBAL's module and name, each ended by '\n'
    constexpr size_t kMaxLine = 256;
    const size_t start = at_;
    while (at_ < size_ && p_[at_] != '\n') {
      if (at_ - start >= kMaxLine) fault("GLOBAL name longer than " + std::to_string(kMaxLine) + " bytes");
      ++at_;
    }
    if (at_ >= size_) fault("truncated: the pickle ends inside a GLOBAL name");
    std::string line(reinterpret_cast<const char*>(p_ + start), at_ - start);
    ++at_;
    return line;
  }

  // ---- the stack, marks and memo
  void count_objects(size_t n) {
    objects_ += n;
    if (objects_ > limits_.max_objects)
      fault("more than " + std::to_string(limits_.max_objects) + " objects: not a plausible state_dict");
  }
  void push(const Value& value) {
    if (stack_.size() >= limits_.max_stack)
      fault("stack deeper than " + std::to_string(limits_.max_stack) + " values");
    stack_.push_back(value);
  }
  Value pop(const char* op) {
    if (stack_.size() <= floor()) fault(std::string(op) + " on an empty stack");
    Value value = stack_.back();
    stack_.pop_back();
    return value;
  }
  Value& top(const char* op) {
    if (stack_.size() <= floor()) fault(std::string(op) + " on an empty stack");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // The values above the last mark, removing the mark.
  std::vector<Value> pop_to_mark(const char* op) {
    if (marks_.empty()) fault(std::string(op) + " without a MARK");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Value> items(stack_.begin() + static_cast<std::ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }
  void memo_put(uint64_t key, const char* op) {
    const Value& value = top(op);
    if (memo_.size() >= limits_.max_memo && !memo_.count(key))
      fault("memo larger than " + std::to_string(limits_.max_memo) + " entries");
    memo_[key] = value;
  }
  void memo_get(uint64_t key) {
    const auto it = memo_.find(key);
    if (it == memo_.end()) fault("memo key " + std::to_string(key) + " was never stored");
    push(it->second);
  }

  // ---- making values
  Value make_string(std::string text) {
    count_objects(1);
    strings_.push_back(std::move(text));
    return {Kind::String, static_cast<int64_t>(strings_.size() - 1), 0};
  }
  Value make_sequence(Kind kind, std::vector<Value> items) {
    count_objects(1 + items.size());
    sequences_.push_back(std::move(items));
    return {kind, static_cast<int64_t>(sequences_.size() - 1), 0};
  }
  Value make_dict() {
    count_objects(1);
    dicts_.emplace_back();
    return {Kind::Dict, static_cast<int64_t>(dicts_.size() - 1), 0};
  }
  const std::string& string_of(const Value& v) const { return strings_[static_cast<size_t>(v.number)]; }
  const std::vector<Value>& items_of(const Value& v) const { return sequences_[static_cast<size_t>(v.number)]; }

  std::string describe(const Value& v) const {
    if (v.kind == Kind::Global) return global_name(static_cast<Global>(v.number));
    if (v.kind == Kind::String) return "string " + quote_for_message(string_of(v));
    const std::string kind = kind_name(v.kind);
    return (kind == "int" ? "an " : "a ") + kind;
  }

  // ---- the opcodes with meaning
  void op_global(const std::string& module, const std::string& name);
  void op_reduce();
  void op_build();
  void op_persistent_id();
  Value rebuild_tensor(const std::vector<Value>& args);
  int64_t integer(const Value& v, const std::string& what) const {
    if (v.kind != Kind::Int) fault(what + " is " + describe(v) + ", not an int");
    return v.number;
  }
  std::vector<int64_t> integers(const Value& v, const std::string& what) const {
    if (v.kind != Kind::Tuple && v.kind != Kind::List) fault(what + " is " + describe(v) + ", not a tuple of ints");
    std::vector<int64_t> out;
    for (const Value& item : items_of(v)) {
      const int64_t n = integer(item, what + " entry");
      if (n < 0) fault(what + " entry is negative (" + std::to_string(n) + ")");
      out.push_back(n);
    }
    return out;
  }
  PickledStateDict finish(const Value& result);

  const unsigned char* p_;
  size_t size_;
  size_t at_ = 0;
  size_t op_at_ = 0;
  const std::string& source_;
  const std::string& label_;
  const PickleLimits& limits_;

  std::vector<Value> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value> memo_;
  size_t objects_ = 0;
  std::vector<std::string> strings_;
  std::vector<std::vector<Value>> sequences_;                  // tuples and lists
  std::vector<std::vector<std::pair<Value, Value>>> dicts_;    // in insertion order
  std::vector<PickledStorage> storages_;
  std::map<std::string, size_t> storage_by_key_;
  std::vector<TensorCall> tensors_;
};

void Machine::op_global(const std::string& module, const std::string& name) {
  for (const GlobalInfo& info : kGlobals)
    if (module == info.module && name == info.name) return push({Kind::Global, static_cast<int64_t>(info.global), 0});
  const std::string full = module + "." + name;
  if (module == "torch" && name.size() > 7 && name.compare(name.size() - 7, 7, "Storage") == 0)
    fault("global " + quote_for_message(full) +
          " is not allowed: only float32, float16, bfloat16 and int64 storages are read "
          "(torch.FloatStorage, HalfStorage, BFloat16Storage, LongStorage)");
  fault("global " + quote_for_message(full) +
        " is not allowed: a state_dict pickle may only name collections.OrderedDict, "
        "torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch storage types");
}

void Machine::op_reduce() {
  const Value args = pop("REDUCE");
  const Value callable = pop("REDUCE");
  if (callable.kind != Kind::Global) fault("REDUCE on " + describe(callable) + ", which is not callable");
  const Global global = static_cast<Global>(callable.number);
  if (args.kind != Kind::Tuple) fault("REDUCE of " + global_name(global) + " with " + describe(args) + " as arguments");
  const std::vector<Value>& items = items_of(args);
  switch (global) {
    case Global::OrderedDict:
      if (!items.empty()) fault("REDUCE of collections.OrderedDict with arguments (only OrderedDict() is read)");
      return push(make_dict());
    case Global::RebuildTensorV2: return push(rebuild_tensor(items));
    case Global::RebuildParameter: {
      if (items.size() != 3) fault("torch._utils._rebuild_parameter takes 3 arguments, got " + std::to_string(items.size()));
      if (items[0].kind != Kind::Tensor) fault("torch._utils._rebuild_parameter of " + describe(items[0]) + ", not a tensor");
      if (items[1].kind != Kind::Bool) fault("torch._utils._rebuild_parameter: requires_grad is " + describe(items[1]));
      if (items[2].kind != Kind::Dict) fault("torch._utils._rebuild_parameter: backward hooks are " + describe(items[2]));
      return push(items[0]);
    }
    default:
      fault("REDUCE may only call collections.OrderedDict, torch._utils._rebuild_tensor_v2 or "
            "torch._utils._rebuild_parameter, not " + global_name(global));
  }
}

Value Machine::rebuild_tensor(const std::vector<Value>& args) {
  const std::string fn = "torch._utils._rebuild_tensor_v2";
  if (args.size() != 6 && args.size() != 7)
    fault(fn + " takes 6 or 7 arguments, got " + std::to_string(args.size()));
  if (args[0].kind != Kind::Storage) fault(fn + ": storage is " + describe(args[0]) + ", not a persistent storage id");
  TensorCall call;
  call.storage = static_cast<size_t>(args[0].number);
  call.offset = integer(args[1], fn + ": storage offset");
  if (call.offset < 0) fault(fn + ": storage offset is negative (" + std::to_string(call.offset) + ")");
  call.shape = integers(args[2], fn + ": size");
  call.stride = integers(args[3], fn + ": stride");
  if (call.shape.size() != call.stride.size())
    fault(fn + ": size has " + std::to_string(call.shape.size()) + " entries but stride has " +
          std::to_string(call.stride.size()));
  if (args[4].kind != Kind::Bool) fault(fn + ": requires_grad is " + describe(args[4]) + ", not a bool");
  if (args[5].kind != Kind::Dict) fault(fn + ": backward hooks are " + describe(args[5]) + ", not an OrderedDict");
  if (args.size() == 7 && args[6].kind != Kind::Dict) fault(fn + ": metadata is " + describe(args[6]) + ", not a dict");
  if (tensors_.size() >= limits_.max_tensors)
    fail(ErrorKind::Limit, source_ + ": " + label_ + " holds more than " + std::to_string(limits_.max_tensors) +
                               " tensors (raise the limit with --max-tensors)");
  count_objects(1 + call.shape.size());
  tensors_.push_back(std::move(call));
  return {Kind::Tensor, static_cast<int64_t>(tensors_.size() - 1), 0};
}

void Machine::op_build() {
  const Value state = pop("BUILD");
  const Value& object = top("BUILD");
  // An OrderedDict state_dict carries `_metadata` (module versions) as an attribute; it is not
  // needed, so it is dropped. Nothing else has attributes set.
  if (object.kind != Kind::Dict) fault("BUILD on " + describe(object) + ": only an OrderedDict's attributes may be set");
  if (state.kind != Kind::Dict && state.kind != Kind::None)
    fault("BUILD of an OrderedDict with " + describe(state) + " as its state");
}

void Machine::op_persistent_id() {
  const Value id = pop("BINPERSID");
  if (id.kind != Kind::Tuple) fault("persistent id is " + describe(id) + ", not a tuple");
  const std::vector<Value>& items = items_of(id);
  if (items.size() != 5 || items[0].kind != Kind::String || string_of(items[0]) != "storage")
    fault("persistent id is not ('storage', type, key, location, numel)");
  if (items[1].kind != Kind::Global || !is_storage_type(static_cast<Global>(items[1].number)))
    fault("persistent id names " + describe(items[1]) + " as its storage type");
  if (items[2].kind != Kind::String) fault("persistent id key is " + describe(items[2]) + ", not a string");
  if (items[3].kind != Kind::String) fault("persistent id location is " + describe(items[3]) + ", not a string");
  const int64_t numel = integer(items[4], "persistent id element count");
  if (numel < 0) fault("persistent id element count is negative (" + std::to_string(numel) + ")");
  const Global type = static_cast<Global>(items[1].number);
  const std::string& key = string_of(items[2]);
  auto [it, inserted] = storage_by_key_.emplace(key, storages_.size());
  if (inserted) {
    PickledStorage storage;
    storage.key = key;
    storage.dtype = storage_dtype(type);
    storage.type_name = global_name(type);
    storage.numel = static_cast<uint64_t>(numel);
    storages_.push_back(std::move(storage));
  } else {
    const PickledStorage& seen = storages_[it->second];
    if (seen.dtype != storage_dtype(type) || seen.numel != static_cast<uint64_t>(numel))
      fault("storage " + quote_for_message(key) + " is named twice with different types or sizes");
  }
  push({Kind::Storage, static_cast<int64_t>(it->second), 0});
}

PickledStateDict Machine::run() {
  bool stopped = false;
  while (!stopped) {
    op_at_ = at_;
    if (at_ >= size_) fault("truncated: the pickle ends before STOP");
    const unsigned char op = p_[at_++];
    switch (op) {
      case kProto: {
        const unsigned version = take(1)[0];
        if (version < 2 || version > 5) fault("pickle protocol " + std::to_string(version) + " (2 to 5 are read)");
        break;
      }
      case kFrame: read_le(8); break;  // a buffering hint; the whole stream is in memory
      case kStop: stopped = true; break;
      case kMark:
        if (marks_.size() >= limits_.max_stack) fault("more than " + std::to_string(limits_.max_stack) + " marks");
        marks_.push_back(stack_.size());
        break;
      case kGlobal: {
        const std::string module = read_line();
        const std::string name = read_line();
        op_global(module, name);
        break;
      }
      case kStackGlobal: {
        const Value name = pop("STACK_GLOBAL");
        const Value module = pop("STACK_GLOBAL");
        if (name.kind != Kind::String || module.kind != Kind::String) fault("STACK_GLOBAL of non-strings");
        op_global(string_of(module), string_of(name));
        break;
      }
      case kBinPut: memo_put(read_le(1), "BINPUT"); break;
      case kLongBinPut: memo_put(read_le(4), "LONG_BINPUT"); break;
      case kMemoize: memo_put(memo_.size(), "MEMOIZE"); break;
      case kBinGet: memo_get(read_le(1)); break;
      case kLongBinGet: memo_get(read_le(4)); break;
      case kEmptyDict: push(make_dict()); break;
      case kEmptyList: push(make_sequence(Kind::List, {})); break;
      case kEmptyTuple: push(make_sequence(Kind::Tuple, {})); break;
      case kTuple: push(make_sequence(Kind::Tuple, pop_to_mark("TUPLE"))); break;
      case kTuple1:
      case kTuple2:
      case kTuple3: {
        const size_t n = op - kTuple1 + 1;
        if (stack_.size() < floor() + n) fault("TUPLE" + std::to_string(n) + " with too few values on the stack");
        std::vector<Value> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
        stack_.resize(stack_.size() - n);
        push(make_sequence(Kind::Tuple, std::move(items)));
        break;
      }
      case kAppend:
      case kAppends: {
        std::vector<Value> items;
        if (op == kAppend)
          items.push_back(pop("APPEND"));
        else
          items = pop_to_mark("APPENDS");
        const Value& list = top(op == kAppend ? "APPEND" : "APPENDS");
        if (list.kind != Kind::List) fault("APPEND to " + describe(list) + ", not a list");
        count_objects(items.size());
        auto& target = sequences_[static_cast<size_t>(list.number)];
        target.insert(target.end(), items.begin(), items.end());
        break;
      }
      case kSetItem:
      case kSetItems: {
        std::vector<Value> items;
        if (op == kSetItem) {
          const Value value = pop("SETITEM");
          items = {pop("SETITEM"), value};
        } else {
          items = pop_to_mark("SETITEMS");
          if (items.size() % 2) fault("SETITEMS with an odd number of values");
        }
        const Value& dict = top(op == kSetItem ? "SETITEM" : "SETITEMS");
        if (dict.kind != Kind::Dict) fault("SETITEM on " + describe(dict) + ", not a dict");
        count_objects(items.size());
        auto& target = dicts_[static_cast<size_t>(dict.number)];
        for (size_t i = 0; i < items.size(); i += 2) target.emplace_back(items[i], items[i + 1]);
        break;
      }
      case kBinInt: push({Kind::Int, static_cast<int32_t>(static_cast<uint32_t>(read_le(4))), 0}); break;
      case kBinInt1: push({Kind::Int, static_cast<int64_t>(read_le(1)), 0}); break;
      case kBinInt2: push({Kind::Int, static_cast<int64_t>(read_le(2)), 0}); break;
      case kLong1: {
        const size_t n = take(1)[0];
        if (n > 8) fault("integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
        uint64_t bits = n ? read_le(n) : 0;
        if (n && n < 8 && (bits >> (8 * n - 1)) & 1) bits |= ~uint64_t{0} << (8 * n);  // sign-extend
        push({Kind::Int, static_cast<int64_t>(bits), 0});
        break;
      }
      case kBinFloat: {
        const unsigned char* b = take(8);  // big-endian IEEE 754 double
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | b[i];
        double value;
        std::memcpy(&value, &bits, sizeof value);
        push({Kind::Float, 0, value});
        break;
      }
      case kBinUnicode:
      case kShortBinUnicode:
      case kBinUnicode8:
      case kShortBinString: {
        const size_t width = op == kBinUnicode ? 4 : op == kBinUnicode8 ? 8 : 1;
        const uint64_t length = read_le(width);
        if (length > size_ - at_) fault("truncated: a string runs past the end of the pickle");
        const unsigned char* text = take(static_cast<size_t>(length));
        push(make_string(std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(length))));
        break;
      }
      case kNone: push({}); break;
      case kNewTrue: push({Kind::Bool, 1, 0}); break;
      case kNewFalse: push({Kind::Bool, 0, 0}); break;
      case kReduce: op_reduce(); break;
      case kBuild: op_build(); break;
      case kBinPersId: op_persistent_id(); break;
      default: {
        char code[32];
        if (op >= 0x20 && op < 0x7f)
          std::snprintf(code, sizeof code, "0x%02x '%c'", op, op);
        else
          std::snprintf(code, sizeof code, "0x%02x", op);
        if (const char* name = refused_opcode_name(op))
          fault(std::string("opcode ") + name + " (" + code + ") is not allowed: a state_dict pickle does not use it");
        fault(std::string("unknown pickle opcode ") + code);
      }
    }
  }
  if (!marks_.empty()) fault("STOP with an unclosed MARK");
  if (stack_.size() != 1) fault("STOP with " + std::to_string(stack_.size()) + " values on the stack instead of 1");
  if (at_ != size_) fault(std::to_string(size_ - at_) + " bytes after STOP");
  return finish(stack_.back());
}

PickledStateDict Machine::finish(const Value& result) {
  if (result.kind != Kind::Dict)
    fault("the pickle holds " + describe(result) + ", not a state_dict (a dict of name -> tensor)");
  PickledStateDict out;
  out.storages = storages_;
  std::set<std::string> names;
  for (const auto& [key, value] : dicts_[static_cast<size_t>(result.number)]) {
    if (key.kind != Kind::String) fault("state_dict key is " + describe(key) + ", not a string");
    const std::string& name = string_of(key);
    if (value.kind != Kind::Tensor)
      fault("state_dict entry " + quote_for_message(name) + " is " + describe(value) +
            ", not a tensor (a training checkpoint rather than a model's state_dict?)");
    if (!names.insert(name).second) fault("state_dict names " + quote_for_message(name) + " twice");
    const TensorCall& call = tensors_[static_cast<size_t>(value.number)];
    out.tensors.push_back({name, call.storage, call.offset, call.shape, call.stride});
  }
  return out;
}

}  // namespace

PickledStateDict unpickle_state_dict(const unsigned char* bytes, size_t size, const std::string& source,
                                     const std::string& label, const PickleLimits& limits) {
  if (size && !bytes) fail(ErrorKind::Internal, source + ": null pickle buffer");
  Machine machine(bytes, size, source, label, limits);
  return machine.run();
}

}  // namespace perceiver
