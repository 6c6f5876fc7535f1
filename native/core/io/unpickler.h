// Allow-list unpickler for the data.pkl of a torch.save checkpoint (docs/algorithm.md §7.5). It never
// executes anything: it understands only the opcodes torch.save emits for a dict of tensors (protocols 2 to
// 5) and only the globals it names (collections.OrderedDict, torch._utils._rebuild_tensor_v2 /
// _rebuild_parameter, the torch storage classes and dtype objects); anything else is an error.
// Objects live in arenas owned by the unpickler and values refer to them by index, so hostile input cannot
// build reference cycles or deep destructor recursion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "raw_tensor.h"

namespace trm::io::detail {

enum class PickleKind : uint8_t { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };
/** The globals a pickle may name (everything else is refused when it is loaded). */
enum class AllowedGlobal : uint8_t { OrderedDict, RebuildTensorV2, RebuildParameter, RebuildParameterWithState, StorageType, DTypeObject };

struct PickleValue {
  PickleKind kind = PickleKind::None;
  int64_t i = 0;   // Bool, Int
  size_t ref = 0;  // index into the arena of its kind (Str, Tuple, List, Dict, Storage, Tensor)
  AllowedGlobal global = AllowedGlobal::OrderedDict;
  DType dtype = DType::F32;  // StorageType / DTypeObject globals
};

/** A storage named by a persistent id: the record data/<key> holds numel elements of dtype. */
struct StorageRef {
  std::string key;
  DType dtype;
  uint64_t numel;
};

/** A _rebuild_tensor_v2 call: a view (offset, size, stride in elements) of storages()[storage]. */
struct TensorDesc {
  size_t storage;
  int64_t offset;
  std::vector<int64_t> size, stride;
};

/** "None", "a bool", "an int", ... for messages. */
const char* kind_text(PickleKind k);

class Unpickler {
 public:
  /** `where` starts every error message ("'<path>': <archive>/data.pkl"). The bytes must outlive the object. */
  Unpickler(const uint8_t* data, uint64_t size, std::string where) : p_(data), size_(size), where_(std::move(where)) {}

  /** Runs to STOP and returns the result; the arenas stay readable through the accessors below. */
  PickleValue run();

  const std::string& str(const PickleValue& v) const { return strs_[v.ref]; }
  const std::vector<std::pair<PickleValue, PickleValue>>& dict(const PickleValue& v) const { return dicts_[v.ref]; }
  const TensorDesc& tensor(const PickleValue& v) const { return tensors_[v.ref]; }
  const std::vector<StorageRef>& storages() const { return storages_; }

  /** Throws trm::Error(CheckpointFormat) "<where> byte <offset of the current opcode>: <what>". */
  [[noreturn]] void fail(const std::string& what) const;

 private:
  const uint8_t* take(uint64_t n);
  uint8_t byte();
  std::string line();

  size_t floor() const;
  void push(const PickleValue& v);
  PickleValue pop();
  const PickleValue& top();
  std::vector<PickleValue> pop_mark();
  PickleValue memo_get(uint64_t idx);

  PickleValue string(uint64_t n);
  PickleValue make_seq(PickleKind k, std::vector<PickleValue> items);
  PickleValue long1();
  std::vector<PickleValue>& list_of(const PickleValue& v);
  std::vector<std::pair<PickleValue, PickleValue>>& dict_of(const PickleValue& v);
  const std::vector<PickleValue>& tuple_of(const PickleValue& v, const char* what);

  PickleValue global(const std::string& module, const std::string& name);
  [[noreturn]] void fail_global(const std::string& module, const std::string& name);
  int64_t int_arg(const PickleValue& v, const char* what);
  std::vector<int64_t> int_tuple(const PickleValue& v, const char* what);
  PickleValue reduce(const PickleValue& callable, const PickleValue& args_v);
  PickleValue persistent_load(const PickleValue& pid_v);

  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t op_pos_ = 0;
  std::string where_;
  std::vector<PickleValue> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleValue> memo_;
  std::vector<std::string> strs_;
  std::vector<std::vector<PickleValue>> seqs_;
  std::vector<std::vector<std::pair<PickleValue, PickleValue>>> dicts_;
  std::vector<StorageRef> storages_;
  std::map<std::string, size_t> storage_index_;
  std::vector<TensorDesc> tensors_;
};

}  // namespace trm::io::detail
