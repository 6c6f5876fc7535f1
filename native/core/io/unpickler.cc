#include "unpickler.h"

#include <cstring>

#include "../errors.h"
#include "utf8.h"
#include "little_endian.h"
#include "torch_storage_classes.h"

namespace trm::io::detail {

namespace {

std::string hex_byte(unsigned v) {
  static const char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[(v >> 4) & 0xF] + kHex[v & 0xF];
}

const char* opcode_name(uint8_t op) {
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
    case 'U': return "SHORT_BINSTRING";
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
    default: return "unknown";
  }
}

/** dtype objects (torch.float32, ...), accepted in place of a storage class in a persistent id. */
constexpr StorageClass kDTypeObjects[] = {
    {"float32", DType::F32}, {"float", DType::F32}, {"float64", DType::F64},   {"double", DType::F64},
    {"float16", DType::F16}, {"half", DType::F16},  {"bfloat16", DType::BF16}, {"int64", DType::I64},
    {"long", DType::I64},    {"int32", DType::I32}, {"int", DType::I32},       {"int16", DType::I16},
    {"short", DType::I16},   {"int8", DType::I8},   {"uint8", DType::U8},      {"bool", DType::Bool},
};

PickleValue obj(PickleKind k, size_t ref) {
  PickleValue v;
  v.kind = k;
  v.ref = ref;
  return v;
}
PickleValue integer(int64_t i) {
  PickleValue v;
  v.kind = PickleKind::Int;
  v.i = i;
  return v;
}
PickleValue boolean(bool b) {
  PickleValue v;
  v.kind = PickleKind::Bool;
  v.i = b ? 1 : 0;
  return v;
}

}  // namespace

const char* kind_text(PickleKind k) {
  switch (k) {
    case PickleKind::None: return "None";
    case PickleKind::Bool: return "a bool";
    case PickleKind::Int: return "an int";
    case PickleKind::Float: return "a float";
    case PickleKind::Str: return "a str";
    case PickleKind::Tuple: return "a tuple";
    case PickleKind::List: return "a list";
    case PickleKind::Dict: return "a dict";
    case PickleKind::Global: return "a class or function";
    case PickleKind::Storage: return "a storage";
    case PickleKind::Tensor: return "a tensor";
  }
  return "?";
}

PickleValue Unpickler::run() {
  while (true) {
    op_pos_ = pos_;
    const uint8_t op = byte();
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t v = byte();
        if (v < 2 || v > 5) fail("pickle protocol " + std::to_string(v) + " (expected 2 to 5)");
        break;
      }
      case 0x95: {  // FRAME: an optimization hint; the frame content is just the next opcodes
        const uint64_t n = read_le64(take(8));
        if (n > size_ - pos_) fail("FRAME of " + std::to_string(n) + " bytes runs past the end");
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        const std::string module = line();
        const std::string name = line();
        push(global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const PickleValue name = pop(), module = pop();
        if (name.kind != PickleKind::Str || module.kind != PickleKind::Str) fail("STACK_GLOBAL expects two strings");
        push(global(strs_[module.ref], strs_[name.ref]));
        break;
      }
      case 0x8c: push(string(byte())); break;              // SHORT_BINUNICODE
      case 'X': push(string(read_le32(take(4)))); break;   // BINUNICODE
      case 0x8d: push(string(read_le64(take(8)))); break;  // BINUNICODE8
      case 'q': memo_[byte()] = top(); break;              // BINPUT
      case 'r': memo_[read_le32(take(4))] = top(); break;  // LONG_BINPUT
      case 0x94: {                                         // MEMOIZE
        const uint64_t idx = memo_.size();
        memo_[idx] = top();
        break;
      }
      case 'h': push(memo_get(byte())); break;                         // BINGET
      case 'j': push(memo_get(read_le32(take(4)))); break;             // LONG_BINGET
      case '(': marks_.push_back(stack_.size()); break;                // MARK
      case 't': push(make_seq(PickleKind::Tuple, pop_mark())); break;  // TUPLE
      case ')': push(make_seq(PickleKind::Tuple, {})); break;          // EMPTY_TUPLE
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const size_t n = static_cast<size_t>(op - 0x84);
        if (stack_.size() < n + floor()) fail("stack underflow");
        std::vector<PickleValue> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
        stack_.resize(stack_.size() - n);
        push(make_seq(PickleKind::Tuple, std::move(items)));
        break;
      }
      case '}': {  // EMPTY_DICT
        dicts_.emplace_back();
        push(obj(PickleKind::Dict, dicts_.size() - 1));
        break;
      }
      case ']': push(make_seq(PickleKind::List, {})); break;  // EMPTY_LIST
      case 'a': {                                             // APPEND
        const PickleValue v = pop();
        list_of(top()).push_back(v);
        break;
      }
      case 'e': {  // APPENDS
        std::vector<PickleValue> items = pop_mark();
        auto& list = list_of(top());
        list.insert(list.end(), items.begin(), items.end());
        break;
      }
      case 's': {  // SETITEM
        const PickleValue v = pop(), k = pop();
        dict_of(top()).emplace_back(k, v);
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<PickleValue> items = pop_mark();
        if (items.size() % 2 != 0) fail("SETITEMS with an odd number of items");
        auto& dict = dict_of(top());
        for (size_t i = 0; i < items.size(); i += 2) dict.emplace_back(items[i], items[i + 1]);
        break;
      }
      case 'J': push(integer(static_cast<int32_t>(read_le32(take(4))))); break;  // BININT
      case 'K': push(integer(byte())); break;                                    // BININT1
      case 'M': push(integer(read_le16(take(2)))); break;                        // BININT2
      case 0x8a: push(long1()); break;                                           // LONG1
      case 0x88: push(boolean(true)); break;                                     // NEWTRUE
      case 0x89: push(boolean(false)); break;                                    // NEWFALSE
      case 'N': push(PickleValue()); break;                                      // NONE
      case 'G': {                                                                // BINFLOAT (big-endian)
        take(8);
        PickleValue v;
        v.kind = PickleKind::Float;  // its value is never needed (only in ignored metadata)
        push(v);
        break;
      }
      case 'R': {  // REDUCE
        const PickleValue args = pop(), callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 'Q': push(persistent_load(pop())); break;  // BINPERSID
      case 'b': {                                     // BUILD: state of an OrderedDict (state_dict()._metadata)
        pop();
        if (top().kind != PickleKind::Dict) fail(std::string("BUILD on ") + kind_text(top().kind) + " (only dicts)");
        break;
      }
      case '.': {  // STOP
        if (!marks_.empty()) fail("STOP with an open MARK");
        return pop();
      }
      default:
        fail("unsupported pickle opcode " + hex_byte(op) + " (" + opcode_name(op) +
             "); only the opcodes torch.save emits for a dict of tensors are allowed");
    }
  }
}

void Unpickler::fail(const std::string& what) const {
  throw Error(ErrorCode::CheckpointFormat, printable(where_ + " byte " + std::to_string(op_pos_) + ": " + what));
}

const uint8_t* Unpickler::take(uint64_t n) {
  if (n > size_ - pos_) fail("pickle truncated (needs " + std::to_string(n) + " more bytes)");
  const uint8_t* q = p_ + pos_;
  pos_ += n;
  return q;
}

uint8_t Unpickler::byte() { return *take(1); }

std::string Unpickler::line() {
  const uint8_t* start = p_ + pos_;
  const void* nl = std::memchr(start, '\n', static_cast<size_t>(size_ - pos_));
  if (nl == nullptr) fail("GLOBAL name without newline");
  const size_t n = static_cast<size_t>(static_cast<const uint8_t*>(nl) - start);
  pos_ += n + 1;
  return std::string(reinterpret_cast<const char*>(start), n);
}

size_t Unpickler::floor() const { return marks_.empty() ? 0 : marks_.back(); }

void Unpickler::push(const PickleValue& v) { stack_.push_back(v); }

PickleValue Unpickler::pop() {
  if (stack_.size() <= floor()) fail("stack underflow");
  PickleValue v = stack_.back();
  stack_.pop_back();
  return v;
}

const PickleValue& Unpickler::top() {
  if (stack_.size() <= floor()) fail("stack underflow");
  return stack_.back();
}

std::vector<PickleValue> Unpickler::pop_mark() {
  if (marks_.empty()) fail("no MARK to pop to");
  const size_t m = marks_.back();
  marks_.pop_back();
  std::vector<PickleValue> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
  stack_.resize(m);
  return items;
}

PickleValue Unpickler::memo_get(uint64_t idx) {
  auto it = memo_.find(idx);
  if (it == memo_.end()) fail("memo entry " + std::to_string(idx) + " does not exist");
  return it->second;
}

PickleValue Unpickler::string(uint64_t n) {
  const uint8_t* s = take(n);
  // Python decodes pickled str as UTF-8; keeping names valid UTF-8 also keeps them valid JS strings.
  if (!valid_utf8(reinterpret_cast<const char*>(s), static_cast<size_t>(n))) fail("string is not valid UTF-8");
  strs_.emplace_back(reinterpret_cast<const char*>(s), static_cast<size_t>(n));
  return obj(PickleKind::Str, strs_.size() - 1);
}

PickleValue Unpickler::make_seq(PickleKind k, std::vector<PickleValue> items) {
  seqs_.push_back(std::move(items));
  return obj(k, seqs_.size() - 1);
}

PickleValue Unpickler::long1() {
  const uint8_t n = byte();
  if (n > 8) fail("LONG1 of " + std::to_string(n) + " bytes does not fit in 64 bits");
  const uint8_t* b = take(n);
  uint64_t u = 0;
  for (int k = n - 1; k >= 0; --k) u = (u << 8) | b[k];
  if (n > 0 && n < 8 && (b[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend two's complement
  return integer(static_cast<int64_t>(u));
}

std::vector<PickleValue>& Unpickler::list_of(const PickleValue& v) {
  if (v.kind != PickleKind::List) fail(std::string("APPEND to ") + kind_text(v.kind) + " (expected a list)");
  return seqs_[v.ref];
}

std::vector<std::pair<PickleValue, PickleValue>>& Unpickler::dict_of(const PickleValue& v) {
  if (v.kind != PickleKind::Dict) fail(std::string("SETITEM on ") + kind_text(v.kind) + " (expected a dict)");
  return dicts_[v.ref];
}

const std::vector<PickleValue>& Unpickler::tuple_of(const PickleValue& v, const char* what) {
  if (v.kind != PickleKind::Tuple) fail(std::string(what) + " must be a tuple, found " + kind_text(v.kind));
  return seqs_[v.ref];
}

PickleValue Unpickler::global(const std::string& module, const std::string& name) {
  PickleValue v;
  v.kind = PickleKind::Global;
  if (module == "collections" && name == "OrderedDict") {
    v.global = AllowedGlobal::OrderedDict;
    return v;
  }
  if (module == "torch._utils") {
    if (name == "_rebuild_tensor_v2")
      v.global = AllowedGlobal::RebuildTensorV2;
    else if (name == "_rebuild_parameter")
      v.global = AllowedGlobal::RebuildParameter;
    else if (name == "_rebuild_parameter_with_state")
      v.global = AllowedGlobal::RebuildParameterWithState;
    else
      fail_global(module, name);
    return v;
  }
  if (module == "torch") {
    for (const auto& c : kStorageClasses) {
      if (name == c.name) {
        v.global = AllowedGlobal::StorageType;
        v.dtype = c.dtype;
        return v;
      }
    }
    for (const auto& c : kDTypeObjects) {
      if (name == c.name) {
        v.global = AllowedGlobal::DTypeObject;
        v.dtype = c.dtype;
        return v;
      }
    }
  }
  fail_global(module, name);
}

void Unpickler::fail_global(const std::string& module, const std::string& name) {
  fail("global '" + module + "." + name +
       "' is not allowed (only collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter "
       "and torch.<Float|Double|Half|BFloat16|Long|Int|Short|Char|Byte|Bool>Storage); nothing is executed");
}

int64_t Unpickler::int_arg(const PickleValue& v, const char* what) {
  if (v.kind != PickleKind::Int) fail(std::string(what) + " must be an int, found " + kind_text(v.kind));
  return v.i;
}

std::vector<int64_t> Unpickler::int_tuple(const PickleValue& v, const char* what) {
  std::vector<int64_t> out;
  for (const PickleValue& x : tuple_of(v, what)) out.push_back(int_arg(x, what));
  return out;
}

PickleValue Unpickler::reduce(const PickleValue& callable, const PickleValue& args_v) {
  if (callable.kind != PickleKind::Global) fail(std::string("REDUCE on ") + kind_text(callable.kind));
  const std::vector<PickleValue> args = tuple_of(args_v, "REDUCE arguments");
  switch (callable.global) {
    case AllowedGlobal::OrderedDict:
      if (!args.empty()) fail("OrderedDict(...) with arguments is not supported");
      dicts_.emplace_back();
      return obj(PickleKind::Dict, dicts_.size() - 1);
    case AllowedGlobal::RebuildTensorV2: {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (args.size() != 6 && args.size() != 7) {
        fail("_rebuild_tensor_v2 expects 6 or 7 arguments, found " + std::to_string(args.size()));
      }
      if (args[0].kind != PickleKind::Storage) {
        fail(std::string("_rebuild_tensor_v2 storage is ") + kind_text(args[0].kind));
      }
      TensorDesc t;
      t.storage = args[0].ref;
      t.offset = int_arg(args[1], "storage_offset");
      t.size = int_tuple(args[2], "tensor size");
      t.stride = int_tuple(args[3], "tensor stride");
      if (args[4].kind != PickleKind::Bool) fail("requires_grad must be a bool");
      tensors_.push_back(std::move(t));
      return obj(PickleKind::Tensor, tensors_.size() - 1);
    }
    case AllowedGlobal::RebuildParameter:
    case AllowedGlobal::RebuildParameterWithState: {
      // (data, requires_grad, backward_hooks[, state]): an nn.Parameter is its data tensor for us.
      const size_t want = callable.global == AllowedGlobal::RebuildParameter ? 3 : 4;
      if (args.size() != want) fail("_rebuild_parameter expects " + std::to_string(want) + " arguments");
      if (args[0].kind != PickleKind::Tensor) {
        fail(std::string("_rebuild_parameter data is ") + kind_text(args[0].kind));
      }
      return args[0];
    }
    case AllowedGlobal::StorageType:
    case AllowedGlobal::DTypeObject: fail("a storage class or dtype cannot be called");
  }
  fail("unreachable");
}

/** ('storage', torch.XStorage or torch.<dtype>, key, location, numel) -> a storage (location ignored). */
PickleValue Unpickler::persistent_load(const PickleValue& pid_v) {
  const std::vector<PickleValue>& pid = tuple_of(pid_v, "persistent id");
  if (pid.size() != 5 || pid[0].kind != PickleKind::Str || str(pid[0]) != "storage") {
    fail("persistent id must be ('storage', type, key, location, numel)");
  }
  if (pid[1].kind != PickleKind::Global || (pid[1].global != AllowedGlobal::StorageType && pid[1].global != AllowedGlobal::DTypeObject)) {
    fail("persistent id type must be a torch storage class or dtype");
  }
  if (pid[2].kind != PickleKind::Str || pid[3].kind != PickleKind::Str) {
    fail("persistent id key and location must be strings");
  }
  const int64_t numel = int_arg(pid[4], "storage numel");
  if (numel < 0) fail("negative storage numel " + std::to_string(numel));
  const std::string& key = str(pid[2]);
  const DType dtype = pid[1].dtype;
  auto it = storage_index_.find(key);
  if (it != storage_index_.end()) {
    const StorageRef& s = storages_[it->second];
    if (s.dtype != dtype || s.numel != static_cast<uint64_t>(numel)) {
      fail("storage '" + key + "' is referenced as both " + dtype_name(s.dtype) + "[" + std::to_string(s.numel) + "] and " +
           dtype_name(dtype) + "[" + std::to_string(numel) + "]");
    }
    return obj(PickleKind::Storage, it->second);
  }
  storages_.push_back(StorageRef{key, dtype, static_cast<uint64_t>(numel)});
  storage_index_[key] = storages_.size() - 1;
  return obj(PickleKind::Storage, storages_.size() - 1);
}

}  // namespace trm::io::detail
