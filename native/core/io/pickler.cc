#include "pickler.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include "little_endian.h"
#include "torch_storage_classes.h"

namespace trm::io::detail {

namespace {

/** Appends pickle opcodes in the forms Python's pickler chooses for protocol 2. */
class PickleWriter {
 public:
  std::string out;

  void op(uint8_t c) { out.push_back(static_cast<char>(c)); }
  void put(uint32_t idx) {  // BINPUT / LONG_BINPUT
    if (idx < 256) {
      op('q');
      op(static_cast<uint8_t>(idx));
    } else {
      op('r');
      append_le32(&out, idx);
    }
  }
  void get(uint32_t idx) {  // BINGET / LONG_BINGET
    if (idx < 256) {
      op('h');
      op(static_cast<uint8_t>(idx));
    } else {
      op('j');
      append_le32(&out, idx);
    }
  }
  void str(const std::string& s) {  // BINUNICODE
    op('X');
    append_le32(&out, static_cast<uint32_t>(s.size()));
    out += s;
  }
  void global(const char* module, const char* name) {
    op('c');
    out += module;
    out += '\n';
    out += name;
    out += '\n';
  }
  void integer(int64_t v) {  // as Python's save_long for protocol 2
    if (v >= 0 && v <= 0xFF) {
      op('K');
      op(static_cast<uint8_t>(v));
    } else if (v >= 0 && v <= 0xFFFF) {
      op('M');
      append_le16(&out, static_cast<uint16_t>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      append_le32(&out, static_cast<uint32_t>(static_cast<int32_t>(v)));
    } else {
      uint8_t b[8];
      for (int k = 0; k < 8; ++k) b[k] = static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * k));
      int n = 8;  // shortest two's complement form
      while (n > 1 && ((b[n - 1] == 0x00 && !(b[n - 2] & 0x80)) || (b[n - 1] == 0xFF && (b[n - 2] & 0x80)))) --n;
      op(0x8a);
      op(static_cast<uint8_t>(n));
      out.append(reinterpret_cast<const char*>(b), static_cast<size_t>(n));
    }
  }
  void int_tuple(const std::vector<int64_t>& v) {
    if (v.empty()) {
      op(')');
      return;
    }
    if (v.size() > 3) op('(');
    for (int64_t x : v) integer(x);
    if (v.size() > 3)
      op('t');
    else
      op(static_cast<uint8_t>(0x84 + v.size()));  // TUPLE1..3
  }
};

const char* storage_class(DType d) {
  for (const auto& c : kStorageClasses) {
    if (c.dtype == d) return c.name;
  }
  return "FloatStorage";
}

}  // namespace

std::string pickle_state_dict(const std::vector<TensorToWrite>& tensors) {
  PickleWriter w;
  uint32_t next_memo = 0;
  w.op(0x80);
  w.op(2);
  w.global("collections", "OrderedDict");
  const uint32_t ordered_dict = next_memo++;
  w.put(ordered_dict);
  w.op(')');
  w.op('R');
  w.put(next_memo++);
  w.op('(');
  uint32_t rebuild = UINT32_MAX, storage_word = UINT32_MAX, cpu = UINT32_MAX;
  std::map<DType, uint32_t> class_memo;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorToWrite& t = tensors[i];
    w.str(t.name);
    if (rebuild == UINT32_MAX) {
      w.global("torch._utils", "_rebuild_tensor_v2");
      w.put(rebuild = next_memo++);
    } else {
      w.get(rebuild);
    }
    w.op('(');  // arguments of _rebuild_tensor_v2
    w.op('(');  // persistent id
    if (storage_word == UINT32_MAX) {
      w.str("storage");
      w.put(storage_word = next_memo++);
    } else {
      w.get(storage_word);
    }
    auto cm = class_memo.find(t.dtype);
    if (cm == class_memo.end()) {
      w.global("torch", storage_class(t.dtype));
      w.put(class_memo[t.dtype] = next_memo++);
    } else {
      w.get(cm->second);
    }
    w.str(std::to_string(i));
    if (cpu == UINT32_MAX) {
      w.str("cpu");
      w.put(cpu = next_memo++);
    } else {
      w.get(cpu);
    }
    int64_t numel = 1;
    for (int64_t d : t.shape) numel *= d;  // checked by the caller
    w.integer(numel);
    w.op('t');
    w.op('Q');
    w.integer(0);  // storage_offset
    w.int_tuple(t.shape);
    std::vector<int64_t> stride(t.shape.size(), 1);
    for (size_t k = t.shape.size(); k-- > 1;) stride[k - 1] = stride[k] * std::max<int64_t>(t.shape[k], 1);
    w.int_tuple(stride);
    w.op(0x89);  // requires_grad = False
    w.get(ordered_dict);
    w.op(')');
    w.op('R');  // backward_hooks = OrderedDict()
    w.op('t');
    w.op('R');
  }
  w.op('u');
  w.op('.');
  return std::move(w.out);
}

}  // namespace trm::io::detail
