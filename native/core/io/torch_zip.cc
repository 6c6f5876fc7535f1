// torch.save zip checkpoints (SPEC 7.3, 7.5). Layout written by torch.save (torch/serialization.py _save and
// caffe2/serialize/inline_container.cc):
//   <archive>/data.pkl      pickle of the top-level object; tensors refer to storages by persistent id
//   <archive>/byteorder     "little" or "big" (absent in older files: little)
//   <archive>/data/<key>    raw storage bytes, STORED, data start aligned to 64 bytes by an 'FB' extra field
//   <archive>/version       "3\n"
// plus optional .format_version, .storage_alignment and .data/serialization_id records, which we ignore.
// Everything in the file is untrusted: all offsets are bounds-checked against the mapping.

#include "torch_zip.h"

#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>

#include "../errors.h"
#include "json_lite.h"

namespace trm::io {

namespace {

// ---------------------------------------------------------------------------------------------------------
// Little helpers

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t rd32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t rd64(const uint8_t* p) { return static_cast<uint64_t>(rd32(p)) | (static_cast<uint64_t>(rd32(p + 4)) << 32); }

void put16(std::string* s, uint16_t v) {
  s->push_back(static_cast<char>(v & 0xFF));
  s->push_back(static_cast<char>(v >> 8));
}
void put32(std::string* s, uint32_t v) {
  put16(s, static_cast<uint16_t>(v & 0xFFFF));
  put16(s, static_cast<uint16_t>(v >> 16));
}
void put64(std::string* s, uint64_t v) {
  put32(s, static_cast<uint32_t>(v & 0xFFFFFFFFu));
  put32(s, static_cast<uint32_t>(v >> 32));
}

std::string hex_byte(unsigned v) {
  static const char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[(v >> 4) & 0xF] + kHex[v & 0xF];
}

/** CRC-32 (zip polynomial), slice-by-8: about 1-2 GB/s, enough for multi-GB checkpoints. */
class Crc32 {
 public:
  static uint32_t update(uint32_t crc, const uint8_t* p, uint64_t n) {
    static const Crc32 tables;
    const auto& t = tables.t_;
    crc = ~crc;
    while (n >= 8) {
      const uint32_t a = rd32(p) ^ crc;
      const uint32_t b = rd32(p + 4);
      crc = t[7][a & 0xFF] ^ t[6][(a >> 8) & 0xFF] ^ t[5][(a >> 16) & 0xFF] ^ t[4][a >> 24] ^ t[3][b & 0xFF] ^
            t[2][(b >> 8) & 0xFF] ^ t[1][(b >> 16) & 0xFF] ^ t[0][b >> 24];
      p += 8;
      n -= 8;
    }
    while (n-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
    return ~crc;
  }

 private:
  Crc32() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t_[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t_[s][i] = (t_[s - 1][i] >> 8) ^ t_[0][t_[s - 1][i] & 0xFF];
    }
  }
  uint32_t t_[8][256];
};

// ---------------------------------------------------------------------------------------------------------
// Zip directory (APPNOTE 4.3), STORED records only, zip64 aware.

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr uint32_t kMax32 = 0xFFFFFFFFu;
constexpr uint16_t kMax16 = 0xFFFF;

struct ZipRecord {
  std::string name;
  uint64_t header_offset = 0;
  uint64_t size = 0;
  uint32_t crc = 0;
  const uint8_t* data = nullptr;  // set by locate_data
};

class ZipReader {
 public:
  explicit ZipReader(const MappedFile& file) : f_(file) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::CheckpointFormat,
                json::printable("'" + f_.path() + "' is not a readable torch.save zip: " + what));
  }

  /** Parses the end record and the central directory. */
  std::vector<ZipRecord> directory() {
    const uint8_t* d = f_.data();
    const uint64_t size = f_.size();
    if (size < 22) fail("file of " + std::to_string(size) + " bytes is too small for a zip archive (truncated?)");

    // End of central directory: the last signature whose comment runs exactly to the end of the file.
    uint64_t eocd = UINT64_MAX;
    const uint64_t lowest = size - 22 > 0xFFFF ? size - 22 - 0xFFFF : 0;
    for (uint64_t pos = size - 22;; --pos) {
      if (rd32(d + pos) == kEndSig && pos + 22 + rd16(d + pos + 20) == size) {
        eocd = pos;
        break;
      }
      if (pos == lowest) break;
    }
    if (eocd == UINT64_MAX) fail("no end-of-central-directory record found (file truncated or not a zip)");

    const uint8_t* e = d + eocd;
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0) fail("multi-disk zip archives are not supported");
    uint64_t count = rd16(e + 10);
    uint64_t cd_size = rd32(e + 12);
    uint64_t cd_offset = rd32(e + 16);
    uint64_t cd_limit = eocd;  // the central directory must end before this offset

    if (eocd >= 20 && rd32(d + eocd - 20) == kZip64LocatorSig) {
      const uint8_t* loc = d + eocd - 20;
      const uint64_t z64 = rd64(loc + 8);
      if (z64 > eocd - 20 || eocd - 20 - z64 < 56) fail("zip64 end record offset " + std::to_string(z64) + " is out of range");
      const uint8_t* z = d + z64;
      if (rd32(z) != kZip64EndSig) fail("zip64 end record signature missing at offset " + std::to_string(z64));
      if (rd32(z + 16) != 0 || rd32(z + 20) != 0) fail("multi-disk zip archives are not supported");
      count = rd64(z + 32);
      cd_size = rd64(z + 40);
      cd_offset = rd64(z + 48);
      cd_limit = z64;
    } else if (count == kMax16 || cd_size == kMax32 || cd_offset == kMax32) {
      fail("end record needs a zip64 end record, which is missing");
    }
    if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) {
      fail("central directory (offset " + std::to_string(cd_offset) + ", " + std::to_string(cd_size) +
           " bytes) lies outside the " + std::to_string(size) + "-byte file");
    }
    if (count == 0) fail("archive contains no records");

    std::vector<ZipRecord> records;
    records.reserve(static_cast<size_t>(std::min<uint64_t>(count, cd_size / 46 + 1)));
    const uint8_t* p = d + cd_offset;
    const uint8_t* end = p + cd_size;
    for (uint64_t i = 0; i < count; ++i) {
      if (end - p < 46 || rd32(p) != kCentralSig) {
        fail("central directory entry " + std::to_string(i) + " of " + std::to_string(count) + " is truncated or corrupt");
      }
      const uint16_t flags = rd16(p + 8);
      const uint16_t method = rd16(p + 10);
      ZipRecord r;
      r.crc = rd32(p + 16);
      uint64_t comp = rd32(p + 20);
      r.size = rd32(p + 24);
      const size_t name_len = rd16(p + 28), extra_len = rd16(p + 30), comment_len = rd16(p + 32);
      const uint16_t disk = rd16(p + 34);
      r.header_offset = rd32(p + 42);
      if (static_cast<size_t>(end - p) < 46 + name_len + extra_len + comment_len) {
        fail("central directory entry " + std::to_string(i) + " runs past the directory");
      }
      r.name.assign(reinterpret_cast<const char*>(p + 46), name_len);
      parse_zip64_extra(p + 46 + name_len, extra_len, &r.size, &comp, &r.header_offset, disk, r.name);
      if (flags & 0x0001) fail("record '" + r.name + "' is encrypted");
      if (method != 0) {
        fail("record '" + r.name + "' is compressed (method " + std::to_string(method) +
             "); torch.save writes STORED (uncompressed) records only");
      }
      if (comp != r.size) {
        fail("STORED record '" + r.name + "' has compressed size " + std::to_string(comp) + " != size " +
             std::to_string(r.size));
      }
      records.push_back(std::move(r));
      p += 46 + name_len + extra_len + comment_len;
    }
    return records;
  }

  /** Validates the local header of a record and sets r->data (bounds-checked against the file). */
  void locate_data(ZipRecord* r) const {
    const uint64_t size = f_.size();
    if (r->header_offset > size || size - r->header_offset < 30) {
      fail("local header of '" + r->name + "' at offset " + std::to_string(r->header_offset) + " lies outside the file");
    }
    const uint8_t* h = f_.data() + r->header_offset;
    if (rd32(h) != kLocalSig) fail("local header signature of '" + r->name + "' missing (file corrupt)");
    const uint64_t name_len = rd16(h + 26), extra_len = rd16(h + 28);
    const uint64_t start = r->header_offset + 30 + name_len + extra_len;
    if (start > size || r->size > size - start) {
      fail("data of '" + r->name + "' (" + std::to_string(r->size) + " bytes at offset " + std::to_string(start) +
           ") runs past the end of the " + std::to_string(size) + "-byte file (truncated?)");
    }
    if (name_len != r->name.size() || std::memcmp(h + 30, r->name.data(), r->name.size()) != 0) {
      fail("local header name of '" + r->name + "' does not match the central directory");
    }
    r->data = f_.data() + start;
  }

 private:
  /** Replaces 0xFFFFFFFF fields by their zip64 values, which come in this order (APPNOTE 4.5.3). */
  void parse_zip64_extra(const uint8_t* x, size_t n, uint64_t* usize, uint64_t* csize, uint64_t* offset,
                         uint16_t disk, const std::string& name) const {
    const bool need_u = *usize == kMax32, need_c = *csize == kMax32, need_o = *offset == kMax32;
    const bool need_d = disk == kMax16;
    if (!need_u && !need_c && !need_o && !need_d) {
      if (disk != 0) fail("record '" + name + "' is on another disk of a multi-disk archive");
      return;
    }
    while (n >= 4) {
      const uint16_t id = rd16(x), len = rd16(x + 2);
      if (len > n - 4) break;
      if (id == 0x0001) {
        const uint8_t* q = x + 4;
        size_t left = len;
        auto take = [&](uint64_t* v) {
          if (left < 8) fail("zip64 extra field of '" + name + "' is too short");
          *v = rd64(q);
          q += 8;
          left -= 8;
        };
        if (need_u) take(usize);
        if (need_c) take(csize);
        if (need_o) take(offset);
        if (need_d) {
          if (left < 4) fail("zip64 extra field of '" + name + "' is too short");
          if (rd32(q) != 0) fail("record '" + name + "' is on another disk of a multi-disk archive");
        }
        return;
      }
      x += 4 + len;
      n -= 4 + len;
    }
    fail("record '" + name + "' needs a zip64 extra field, which is missing");
  }

  const MappedFile& f_;
};

// ---------------------------------------------------------------------------------------------------------
// Allow-list unpickler. Objects live in arenas owned by the unpickler and values refer to them by index,
// so hostile input cannot build reference cycles or deep destructor recursion.

enum class Kind : uint8_t { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };
enum class GlobalKind : uint8_t { OrderedDict, RebuildTensorV2, RebuildParameter, RebuildParameterWithState, StorageType, DTypeObject };

struct Value {
  Kind kind = Kind::None;
  int64_t i = 0;   // Bool, Int
  size_t ref = 0;  // index into the arena of its kind (Str, Tuple, List, Dict, Storage, Tensor)
  GlobalKind global = GlobalKind::OrderedDict;
  DType dtype = DType::F32;  // StorageType / DTypeObject globals
};

struct StorageRef {
  std::string key;
  DType dtype;
  uint64_t numel;
};

struct TensorDesc {
  size_t storage;
  int64_t offset;
  std::vector<int64_t> size, stride;
};

const char* kind_text(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: return "an int";
    case Kind::Float: return "a float";
    case Kind::Str: return "a str";
    case Kind::Tuple: return "a tuple";
    case Kind::List: return "a list";
    case Kind::Dict: return "a dict";
    case Kind::Global: return "a class or function";
    case Kind::Storage: return "a storage";
    case Kind::Tensor: return "a tensor";
  }
  return "?";
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

struct StorageClass {
  const char* name;
  DType dtype;
};
constexpr StorageClass kStorageClasses[] = {
    {"FloatStorage", DType::F32}, {"DoubleStorage", DType::F64}, {"HalfStorage", DType::F16},
    {"BFloat16Storage", DType::BF16}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
    {"ShortStorage", DType::I16}, {"CharStorage", DType::I8}, {"ByteStorage", DType::U8},
    {"BoolStorage", DType::Bool},
};
constexpr StorageClass kDTypeObjects[] = {
    {"float32", DType::F32}, {"float", DType::F32}, {"float64", DType::F64}, {"double", DType::F64},
    {"float16", DType::F16}, {"half", DType::F16}, {"bfloat16", DType::BF16}, {"int64", DType::I64},
    {"long", DType::I64}, {"int32", DType::I32}, {"int", DType::I32}, {"int16", DType::I16},
    {"short", DType::I16}, {"int8", DType::I8}, {"uint8", DType::U8}, {"bool", DType::Bool},
};

class Unpickler {
 public:
  Unpickler(const uint8_t* data, uint64_t size, std::string where) : p_(data), size_(size), where_(std::move(where)) {}

  /** Runs to STOP and returns the result; the arenas stay readable through the accessors below. */
  Value run() {
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
          const uint64_t n = rd64(take(8));
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
          const Value name = pop(), module = pop();
          if (name.kind != Kind::Str || module.kind != Kind::Str) fail("STACK_GLOBAL expects two strings");
          push(global(strs_[module.ref], strs_[name.ref]));
          break;
        }
        case 0x8c: push(string(byte())); break;                   // SHORT_BINUNICODE
        case 'X': push(string(rd32(take(4)))); break;              // BINUNICODE
        case 0x8d: push(string(rd64(take(8)))); break;             // BINUNICODE8
        case 'q': memo_[byte()] = top(); break;                    // BINPUT
        case 'r': memo_[rd32(take(4))] = top(); break;             // LONG_BINPUT
        case 0x94: {                                               // MEMOIZE
          const uint64_t idx = memo_.size();
          memo_[idx] = top();
          break;
        }
        case 'h': push(memo_get(byte())); break;                   // BINGET
        case 'j': push(memo_get(rd32(take(4)))); break;            // LONG_BINGET
        case '(': marks_.push_back(stack_.size()); break;          // MARK
        case 't': push(make_seq(Kind::Tuple, pop_mark())); break;  // TUPLE
        case ')': push(make_seq(Kind::Tuple, {})); break;          // EMPTY_TUPLE
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          const size_t n = static_cast<size_t>(op - 0x84);
          if (stack_.size() < n + floor()) fail("stack underflow");
          std::vector<Value> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          push(make_seq(Kind::Tuple, std::move(items)));
          break;
        }
        case '}': {  // EMPTY_DICT
          dicts_.emplace_back();
          push(obj(Kind::Dict, dicts_.size() - 1));
          break;
        }
        case ']': push(make_seq(Kind::List, {})); break;  // EMPTY_LIST
        case 'a': {                                        // APPEND
          const Value v = pop();
          list_of(top()).push_back(v);
          break;
        }
        case 'e': {  // APPENDS
          std::vector<Value> items = pop_mark();
          auto& list = list_of(top());
          list.insert(list.end(), items.begin(), items.end());
          break;
        }
        case 's': {  // SETITEM
          const Value v = pop(), k = pop();
          dict_of(top()).emplace_back(k, v);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<Value> items = pop_mark();
          if (items.size() % 2 != 0) fail("SETITEMS with an odd number of items");
          auto& dict = dict_of(top());
          for (size_t i = 0; i < items.size(); i += 2) dict.emplace_back(items[i], items[i + 1]);
          break;
        }
        case 'J': push(integer(static_cast<int32_t>(rd32(take(4))))); break;  // BININT
        case 'K': push(integer(byte())); break;                                // BININT1
        case 'M': push(integer(rd16(take(2)))); break;                         // BININT2
        case 0x8a: push(long1()); break;                                       // LONG1
        case 0x88: push(boolean(true)); break;                                 // NEWTRUE
        case 0x89: push(boolean(false)); break;                                // NEWFALSE
        case 'N': push(Value()); break;                                        // NONE
        case 'G': {                                                            // BINFLOAT (big-endian)
          take(8);
          Value v;
          v.kind = Kind::Float;  // its value is never needed (only in ignored metadata)
          push(v);
          break;
        }
        case 'R': {  // REDUCE
          const Value args = pop(), callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 'Q': push(persistent_load(pop())); break;  // BINPERSID
        case 'b': {                                     // BUILD: state of an OrderedDict (state_dict()._metadata)
          pop();
          if (top().kind != Kind::Dict) fail(std::string("BUILD on ") + kind_text(top().kind) + " (only dicts)");
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

  const std::string& str(const Value& v) const { return strs_[v.ref]; }
  const std::vector<std::pair<Value, Value>>& dict(const Value& v) const { return dicts_[v.ref]; }
  const TensorDesc& tensor(const Value& v) const { return tensors_[v.ref]; }
  const std::vector<StorageRef>& storages() const { return storages_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(ErrorCode::CheckpointFormat, json::printable(where_ + " byte " + std::to_string(op_pos_) + ": " + what));
  }

 private:
  const uint8_t* take(uint64_t n) {
    if (n > size_ - pos_) fail("pickle truncated (needs " + std::to_string(n) + " more bytes)");
    const uint8_t* q = p_ + pos_;
    pos_ += n;
    return q;
  }
  uint8_t byte() { return *take(1); }

  std::string line() {
    const uint8_t* start = p_ + pos_;
    const void* nl = std::memchr(start, '\n', static_cast<size_t>(size_ - pos_));
    if (nl == nullptr) fail("GLOBAL name without newline");
    const size_t n = static_cast<size_t>(static_cast<const uint8_t*>(nl) - start);
    pos_ += n + 1;
    return std::string(reinterpret_cast<const char*>(start), n);
  }

  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(const Value& v) { stack_.push_back(v); }
  Value pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    Value v = stack_.back();
    stack_.pop_back();
    return v;
  }
  const Value& top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<Value> pop_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Value> items(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  Value memo_get(uint64_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("memo entry " + std::to_string(idx) + " does not exist");
    return it->second;
  }

  static Value obj(Kind k, size_t ref) {
    Value v;
    v.kind = k;
    v.ref = ref;
    return v;
  }
  static Value integer(int64_t i) {
    Value v;
    v.kind = Kind::Int;
    v.i = i;
    return v;
  }
  static Value boolean(bool b) {
    Value v;
    v.kind = Kind::Bool;
    v.i = b ? 1 : 0;
    return v;
  }
  Value string(uint64_t n) {
    const uint8_t* s = take(n);
    // Python decodes pickled str as UTF-8; keeping names valid UTF-8 also keeps them valid JS strings.
    if (!json::valid_utf8(reinterpret_cast<const char*>(s), static_cast<size_t>(n))) fail("string is not valid UTF-8");
    strs_.emplace_back(reinterpret_cast<const char*>(s), static_cast<size_t>(n));
    return obj(Kind::Str, strs_.size() - 1);
  }
  Value make_seq(Kind k, std::vector<Value> items) {
    seqs_.push_back(std::move(items));
    return obj(k, seqs_.size() - 1);
  }
  Value long1() {
    const uint8_t n = byte();
    if (n > 8) fail("LONG1 of " + std::to_string(n) + " bytes does not fit in 64 bits");
    const uint8_t* b = take(n);
    uint64_t u = 0;
    for (int k = n - 1; k >= 0; --k) u = (u << 8) | b[k];
    if (n > 0 && n < 8 && (b[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend two's complement
    return integer(static_cast<int64_t>(u));
  }
  std::vector<Value>& list_of(const Value& v) {
    if (v.kind != Kind::List) fail(std::string("APPEND to ") + kind_text(v.kind) + " (expected a list)");
    return seqs_[v.ref];
  }
  std::vector<std::pair<Value, Value>>& dict_of(const Value& v) {
    if (v.kind != Kind::Dict) fail(std::string("SETITEM on ") + kind_text(v.kind) + " (expected a dict)");
    return dicts_[v.ref];
  }
  const std::vector<Value>& tuple_of(const Value& v, const char* what) {
    if (v.kind != Kind::Tuple) fail(std::string(what) + " must be a tuple, found " + kind_text(v.kind));
    return seqs_[v.ref];
  }

  Value global(const std::string& module, const std::string& name) {
    Value v;
    v.kind = Kind::Global;
    if (module == "collections" && name == "OrderedDict") {
      v.global = GlobalKind::OrderedDict;
      return v;
    }
    if (module == "torch._utils") {
      if (name == "_rebuild_tensor_v2") v.global = GlobalKind::RebuildTensorV2;
      else if (name == "_rebuild_parameter") v.global = GlobalKind::RebuildParameter;
      else if (name == "_rebuild_parameter_with_state") v.global = GlobalKind::RebuildParameterWithState;
      else fail_global(module, name);
      return v;
    }
    if (module == "torch") {
      for (const auto& c : kStorageClasses) {
        if (name == c.name) {
          v.global = GlobalKind::StorageType;
          v.dtype = c.dtype;
          return v;
        }
      }
      for (const auto& c : kDTypeObjects) {
        if (name == c.name) {
          v.global = GlobalKind::DTypeObject;
          v.dtype = c.dtype;
          return v;
        }
      }
    }
    fail_global(module, name);
  }
  [[noreturn]] void fail_global(const std::string& module, const std::string& name) {
    fail("global '" + module + "." + name +
         "' is not allowed (only collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter "
         "and torch.<Float|Double|Half|BFloat16|Long|Int|Short|Char|Byte|Bool>Storage); nothing is executed");
  }

  int64_t int_arg(const Value& v, const char* what) {
    if (v.kind != Kind::Int) fail(std::string(what) + " must be an int, found " + kind_text(v.kind));
    return v.i;
  }
  std::vector<int64_t> int_tuple(const Value& v, const char* what) {
    std::vector<int64_t> out;
    for (const Value& x : tuple_of(v, what)) out.push_back(int_arg(x, what));
    return out;
  }

  Value reduce(const Value& callable, const Value& args_v) {
    if (callable.kind != Kind::Global) fail(std::string("REDUCE on ") + kind_text(callable.kind));
    const std::vector<Value> args = tuple_of(args_v, "REDUCE arguments");
    switch (callable.global) {
      case GlobalKind::OrderedDict:
        if (!args.empty()) fail("OrderedDict(...) with arguments is not supported");
        dicts_.emplace_back();
        return obj(Kind::Dict, dicts_.size() - 1);
      case GlobalKind::RebuildTensorV2: {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (args.size() != 6 && args.size() != 7) {
          fail("_rebuild_tensor_v2 expects 6 or 7 arguments, found " + std::to_string(args.size()));
        }
        if (args[0].kind != Kind::Storage) fail(std::string("_rebuild_tensor_v2 storage is ") + kind_text(args[0].kind));
        TensorDesc t;
        t.storage = args[0].ref;
        t.offset = int_arg(args[1], "storage_offset");
        t.size = int_tuple(args[2], "tensor size");
        t.stride = int_tuple(args[3], "tensor stride");
        if (args[4].kind != Kind::Bool) fail("requires_grad must be a bool");
        tensors_.push_back(std::move(t));
        return obj(Kind::Tensor, tensors_.size() - 1);
      }
      case GlobalKind::RebuildParameter:
      case GlobalKind::RebuildParameterWithState: {
        // (data, requires_grad, backward_hooks[, state]): an nn.Parameter is its data tensor for us.
        const size_t want = callable.global == GlobalKind::RebuildParameter ? 3 : 4;
        if (args.size() != want) fail("_rebuild_parameter expects " + std::to_string(want) + " arguments");
        if (args[0].kind != Kind::Tensor) fail(std::string("_rebuild_parameter data is ") + kind_text(args[0].kind));
        return args[0];
      }
      case GlobalKind::StorageType:
      case GlobalKind::DTypeObject: fail("a storage class or dtype cannot be called");
    }
    fail("unreachable");
  }

  /** ('storage', torch.XStorage or torch.<dtype>, key, location, numel) -> a storage (location ignored). */
  Value persistent_load(const Value& pid_v) {
    const std::vector<Value>& pid = tuple_of(pid_v, "persistent id");
    if (pid.size() != 5 || pid[0].kind != Kind::Str || str(pid[0]) != "storage") {
      fail("persistent id must be ('storage', type, key, location, numel)");
    }
    if (pid[1].kind != Kind::Global ||
        (pid[1].global != GlobalKind::StorageType && pid[1].global != GlobalKind::DTypeObject)) {
      fail("persistent id type must be a torch storage class or dtype");
    }
    if (pid[2].kind != Kind::Str || pid[3].kind != Kind::Str) fail("persistent id key and location must be strings");
    const int64_t numel = int_arg(pid[4], "storage numel");
    if (numel < 0) fail("negative storage numel " + std::to_string(numel));
    const std::string& key = str(pid[2]);
    const DType dtype = pid[1].dtype;
    auto it = storage_index_.find(key);
    if (it != storage_index_.end()) {
      const StorageRef& s = storages_[it->second];
      if (s.dtype != dtype || s.numel != static_cast<uint64_t>(numel)) {
        fail("storage '" + key + "' is referenced as both " + dtype_name(s.dtype) + "[" + std::to_string(s.numel) +
             "] and " + dtype_name(dtype) + "[" + std::to_string(numel) + "]");
      }
      return obj(Kind::Storage, it->second);
    }
    storages_.push_back(StorageRef{key, dtype, static_cast<uint64_t>(numel)});
    storage_index_[key] = storages_.size() - 1;
    return obj(Kind::Storage, storages_.size() - 1);
  }

  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
  uint64_t op_pos_ = 0;
  std::string where_;
  std::vector<Value> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value> memo_;
  std::vector<std::string> strs_;
  std::vector<std::vector<Value>> seqs_;
  std::vector<std::vector<std::pair<Value, Value>>> dicts_;
  std::vector<StorageRef> storages_;
  std::map<std::string, size_t> storage_index_;
  std::vector<TensorDesc> tensors_;
};

/** Number of elements a storage needs so that every element of the view lies inside; false on overflow. */
bool view_extent(const TensorDesc& t, uint64_t* needed) {
  if (t.offset < 0 || t.size.size() != t.stride.size()) return false;
  int64_t max_index = t.offset;
  for (size_t k = 0; k < t.size.size(); ++k) {
    if (t.size[k] < 0 || t.stride[k] < 0) return false;
    if (t.size[k] == 0) {
      *needed = 0;  // an empty tensor touches no storage
      return true;
    }
  }
  for (size_t k = 0; k < t.size.size(); ++k) {
    int64_t step;
    if (__builtin_mul_overflow(t.size[k] - 1, t.stride[k], &step) ||
        __builtin_add_overflow(max_index, step, &max_index)) {
      return false;
    }
  }
  *needed = static_cast<uint64_t>(max_index) + 1;
  return true;
}

std::string shape_text(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

// ---------------------------------------------------------------------------------------------------------
// Writer: pickle protocol 2 as Python's pickler emits it for torch.save(OrderedDict), and a zip with
// 64-byte aligned STORED records (the 'FB' padding extra field of torch's writer).

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
      put32(&out, idx);
    }
  }
  void get(uint32_t idx) {  // BINGET / LONG_BINGET
    if (idx < 256) {
      op('h');
      op(static_cast<uint8_t>(idx));
    } else {
      op('j');
      put32(&out, idx);
    }
  }
  void str(const std::string& s) {  // BINUNICODE
    op('X');
    put32(&out, static_cast<uint32_t>(s.size()));
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
      put16(&out, static_cast<uint16_t>(v));
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      put32(&out, static_cast<uint32_t>(static_cast<int32_t>(v)));
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
    if (v.size() > 3) op('t');
    else op(static_cast<uint8_t>(0x84 + v.size()));  // TUPLE1..3
  }
};

const char* storage_class(DType d) {
  for (const auto& c : kStorageClasses) {
    if (c.dtype == d) return c.name;
  }
  return "FloatStorage";
}

/** data.pkl for OrderedDict(name -> tensor), storage key = index as a decimal string. */
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

class ZipWriter {
 public:
  ZipWriter(std::FILE* f, std::string path, bool force_zip64) : f_(f), path_(std::move(path)), force64_(force_zip64) {}

  void add(const std::string& name, const void* data, uint64_t size) {
    const uint64_t offset = pos_;
    const bool z64 = force64_ || size >= kMax32;
    std::string h;
    put32(&h, kLocalSig);
    put16(&h, z64 ? 45 : 20);  // version needed
    put16(&h, 0x0800);         // UTF-8 names
    put16(&h, 0);              // STORED
    put16(&h, 0);              // time 00:00
    put16(&h, 0x21);           // date 1980-01-01
    put32(&h, 0);              // CRC-32, patched after the data
    put32(&h, z64 ? kMax32 : static_cast<uint32_t>(size));
    put32(&h, z64 ? kMax32 : static_cast<uint32_t>(size));
    put16(&h, static_cast<uint16_t>(name.size()));
    const uint64_t before_pad = offset + 30 + name.size() + (z64 ? 20 : 0) + 4;
    const uint64_t pad = (64 - before_pad % 64) % 64;
    put16(&h, static_cast<uint16_t>((z64 ? 20 : 0) + 4 + pad));
    h += name;
    if (z64) {
      put16(&h, 0x0001);
      put16(&h, 16);
      put64(&h, size);
      put64(&h, size);
    }
    h += "FB";
    put16(&h, static_cast<uint16_t>(pad));
    h.append(static_cast<size_t>(pad), 'Z');
    emit(h.data(), h.size());

    uint32_t crc = 0;
    const uint8_t* p = static_cast<const uint8_t*>(data);
    for (uint64_t done = 0; done < size;) {  // CRC while the chunk is in cache
      const uint64_t n = std::min<uint64_t>(size - done, uint64_t{1} << 22);
      crc = Crc32::update(crc, p + done, n);
      emit(p + done, n);
      done += n;
    }
    std::string c;
    put32(&c, crc);
    seek(offset + 14);
    write_all(f_, c.data(), 4, path_);
    seek(pos_);
    entries_.push_back(Entry{name, crc, size, offset});
  }

  void finish() {
    const uint64_t cd_start = pos_;
    for (const Entry& e : entries_) {
      const bool big_size = force64_ || e.size >= kMax32, big_off = force64_ || e.offset >= kMax32;
      std::string x;
      if (big_size || big_off) {
        put16(&x, 0x0001);
        put16(&x, static_cast<uint16_t>(8 * ((big_size ? 2 : 0) + (big_off ? 1 : 0))));
        if (big_size) {
          put64(&x, e.size);
          put64(&x, e.size);
        }
        if (big_off) put64(&x, e.offset);
      }
      const uint16_t version = (big_size || big_off) ? 45 : 20;
      std::string h;
      put32(&h, kCentralSig);
      put16(&h, version);  // made by
      put16(&h, version);  // needed
      put16(&h, 0x0800);
      put16(&h, 0);
      put16(&h, 0);
      put16(&h, 0x21);
      put32(&h, e.crc);
      put32(&h, big_size ? kMax32 : static_cast<uint32_t>(e.size));
      put32(&h, big_size ? kMax32 : static_cast<uint32_t>(e.size));
      put16(&h, static_cast<uint16_t>(e.name.size()));
      put16(&h, static_cast<uint16_t>(x.size()));
      put16(&h, 0);  // comment
      put16(&h, 0);  // disk
      put16(&h, 0);  // internal attributes
      put32(&h, 0);  // external attributes
      put32(&h, big_off ? kMax32 : static_cast<uint32_t>(e.offset));
      h += e.name;
      h += x;
      emit(h.data(), h.size());
    }
    const uint64_t cd_size = pos_ - cd_start, n = entries_.size();
    const bool z64 = force64_ || n >= kMax16 || cd_start >= kMax32 || cd_size >= kMax32;
    std::string t;
    if (z64) {
      const uint64_t z64_offset = pos_;
      put32(&t, kZip64EndSig);
      put64(&t, 44);  // size of the rest of this record
      put16(&t, 45);
      put16(&t, 45);
      put32(&t, 0);
      put32(&t, 0);
      put64(&t, n);
      put64(&t, n);
      put64(&t, cd_size);
      put64(&t, cd_start);
      put32(&t, kZip64LocatorSig);
      put32(&t, 0);
      put64(&t, z64_offset);
      put32(&t, 1);
    }
    put32(&t, kEndSig);
    put16(&t, 0);
    put16(&t, 0);
    put16(&t, z64 ? kMax16 : static_cast<uint16_t>(n));
    put16(&t, z64 ? kMax16 : static_cast<uint16_t>(n));
    put32(&t, z64 ? kMax32 : static_cast<uint32_t>(cd_size));
    put32(&t, z64 ? kMax32 : static_cast<uint32_t>(cd_start));
    put16(&t, 0);
    emit(t.data(), t.size());
  }

 private:
  struct Entry {
    std::string name;
    uint32_t crc;
    uint64_t size, offset;
  };

  void emit(const void* p, uint64_t n) {
    write_all(f_, p, n, path_);
    pos_ += n;
  }
  void seek(uint64_t where) {
    if (::fseeko(f_, static_cast<off_t>(where), SEEK_SET) != 0) {
      throw Error(ErrorCode::IO, "cannot seek in '" + path_ + "' while writing: " + std::strerror(errno));
    }
  }

  std::FILE* f_;
  std::string path_;
  bool force64_;
  uint64_t pos_ = 0;
  std::vector<Entry> entries_;
};

/** torch's rule (inline_container.cc basename): the file name without directories and its last extension. */
std::string archive_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = base.find_last_of('.');
  if (dot != std::string::npos) base.resize(dot);
  // torch refuses such names; we fall back to the name torch uses for in-memory buffers.
  if (base.empty() || !json::valid_utf8(base.data(), base.size())) base = "archive";
  return base;
}

void check_tensors(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  std::set<std::string> seen;
  for (const TensorToWrite& t : tensors) {
    const std::string who = "writing '" + path + "': tensor '" + json::printable(t.name) + "'";
    if (!seen.insert(t.name).second) throw Error(ErrorCode::InvalidArgument, who + " appears twice");
    if (!json::valid_utf8(t.name.data(), t.name.size())) {
      throw Error(ErrorCode::InvalidArgument, who + " has a name that is not valid UTF-8");
    }
    uint64_t numel = 1, span = 1;  // span: product of max(d, 1), the largest contiguous stride
    for (int64_t d : t.shape) {
      if (d < 0) throw Error(ErrorCode::InvalidArgument, who + " has a negative dimension in " + shape_text(t.shape));
      numel *= static_cast<uint64_t>(d);  // <= span, which is checked
      if (__builtin_mul_overflow(span, static_cast<uint64_t>(std::max<int64_t>(d, 1)), &span) ||
          span > uint64_t{INT64_MAX}) {
        throw Error(ErrorCode::InvalidArgument, who + " has too many elements: " + shape_text(t.shape));
      }
    }
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(t.dtype)), &nbytes) || nbytes != t.nbytes) {
      throw Error(ErrorCode::InvalidArgument, who + ": shape " + shape_text(t.shape) + " of " + dtype_name(t.dtype) +
                                                  " needs " + std::to_string(numel * dtype_size(t.dtype)) +
                                                  " bytes, got nbytes = " + std::to_string(t.nbytes));
    }
    if (t.data == nullptr && t.nbytes > 0) throw Error(ErrorCode::InvalidArgument, who + " has null data");
  }
}

void write_torch_zip_impl(const std::string& path, const std::vector<TensorToWrite>& tensors, bool force_zip64) {
  check_tensors(path, tensors);
  const std::string pkl = pickle_state_dict(tensors);
  const std::string prefix = archive_name(path) + "/";
  write_file_atomic(path, [&](std::FILE* f) {
    ZipWriter zip(f, path, force_zip64);
    zip.add(prefix + "data.pkl", pkl.data(), pkl.size());
    zip.add(prefix + "byteorder", "little", 6);
    for (size_t i = 0; i < tensors.size(); ++i) {
      zip.add(prefix + "data/" + std::to_string(i), tensors[i].data, tensors[i].nbytes);
    }
    zip.add(prefix + "version", "3\n", 2);
    zip.finish();
  });
}

}  // namespace

// -------------------------------------------------------------------------------------------------------------

std::vector<RawTensor> read_torch_zip(const std::string& path, bool verify_crc32) {
  std::shared_ptr<MappedFile> file = MappedFile::open(path);
  ZipReader zip(*file);
  const uint8_t* d = file->data();
  if (file->size() < 22) {
    zip.fail("file of " + std::to_string(file->size()) + " bytes is too small for a zip archive (truncated?)");
  }
  if (d[0] == 0x80 && d[1] >= 2 && d[1] <= 5) {
    zip.fail("it is a legacy (pre-zip) torch.save file; re-save it with torch >= 1.6 "
             "(_use_new_zipfile_serialization=True, the default)");
  }
  if (rd32(d) != kLocalSig) zip.fail("no zip signature 'PK\\3\\4' at offset 0");

  std::vector<ZipRecord> records = zip.directory();
  // torch takes the archive folder from the first record (PyTorchStreamReader::init).
  const size_t slash = records[0].name.find('/');
  if (slash == std::string::npos) zip.fail("first record '" + records[0].name + "' is not inside an archive folder");
  const std::string prefix = records[0].name.substr(0, slash + 1);
  std::map<std::string, size_t> by_name;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].name.compare(0, prefix.size(), prefix) != 0) continue;
    if (!by_name.emplace(records[i].name.substr(prefix.size()), i).second) {
      zip.fail("record '" + records[i].name + "' appears twice");
    }
  }
  std::set<size_t> verified;
  auto record = [&](const std::string& name) -> ZipRecord* {
    auto it = by_name.find(name);
    if (it == by_name.end()) return nullptr;
    ZipRecord* r = &records[it->second];
    if (r->data == nullptr) zip.locate_data(r);
    if (verify_crc32 && r->crc != 0 && verified.insert(it->second).second) {
      const uint32_t crc = Crc32::update(0, r->data, r->size);
      if (crc != r->crc) {
        zip.fail("CRC-32 of '" + r->name + "' is " + std::to_string(crc) + ", the directory says " +
                 std::to_string(r->crc) + " (file corrupt)");
      }
    }
    return r;
  };

  if (const ZipRecord* bo = record("byteorder")) {
    const std::string order(reinterpret_cast<const char*>(bo->data), static_cast<size_t>(bo->size));
    if (order == "big") zip.fail("it was saved on a big-endian machine (byteorder 'big'); only little-endian files are supported");
    if (order != "little") zip.fail("byteorder record is '" + order + "', expected 'little'");
  }
  const ZipRecord* pkl = record("data.pkl");
  if (pkl == nullptr) {
    zip.fail("record '" + prefix + "data.pkl' is missing" +
             (by_name.count("constants.pkl") ? " (this looks like a TorchScript archive, torch.jit.save)" : ""));
  }

  Unpickler up(pkl->data, pkl->size, "'" + path + "': " + prefix + "data.pkl");
  const Value root = up.run();
  if (root.kind != Kind::Dict) {
    up.fail(std::string("expected the top-level object to be a dict or OrderedDict of name -> tensor, found ") +
            kind_text(root.kind));
  }

  // Storage bytes, shared by every tensor that views the same storage.
  std::vector<const ZipRecord*> storage_records;
  for (const StorageRef& s : up.storages()) {
    const ZipRecord* r = record("data/" + s.key);
    if (r == nullptr) zip.fail("storage record '" + prefix + "data/" + s.key + "' is missing");
    uint64_t nbytes;
    if (__builtin_mul_overflow(s.numel, static_cast<uint64_t>(dtype_size(s.dtype)), &nbytes) || nbytes != r->size) {
      zip.fail("storage '" + r->name + "' holds " + std::to_string(r->size) + " bytes but the pickle declares " +
               std::to_string(s.numel) + " " + dtype_name(s.dtype) + " elements");
    }
    storage_records.push_back(r);
  }

  std::vector<RawTensor> out;
  std::set<std::string> names;
  for (const auto& [k, v] : up.dict(root)) {
    if (k.kind != Kind::Str) up.fail(std::string("expected string keys in the top-level dict, found ") + kind_text(k.kind));
    const std::string& name = up.str(k);
    if (v.kind != Kind::Tensor) {
      up.fail("expected a flat dict of name -> tensor, but '" + name + "' holds " + kind_text(v.kind) +
              (v.kind == Kind::Dict ? " (save model.state_dict() itself, not a dict that contains it)" : ""));
    }
    if (!names.insert(name).second) up.fail("key '" + name + "' appears twice in the top-level dict");
    const TensorDesc& t = up.tensor(v);
    const StorageRef& s = up.storages()[t.storage];
    uint64_t needed = 0;
    if (!view_extent(t, &needed) || needed > s.numel) {
      up.fail("tensor '" + name + "' (size " + shape_text(t.size) + ", stride " + shape_text(t.stride) + ", offset " +
              std::to_string(t.offset) + ") does not fit in its storage of " + std::to_string(s.numel) + " elements");
    }
    RawTensor r;
    r.name = name;
    r.dtype = s.dtype;
    r.shape = t.size;
    r.strides = t.stride;
    r.storage_offset = t.offset;
    r.storage = storage_records[t.storage]->data;
    r.storage_nbytes = storage_records[t.storage]->size;
    r.file = file;
    out.push_back(std::move(r));
  }
  return out;
}

void write_torch_zip(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  write_torch_zip_impl(path, tensors, false);
}

namespace detail {
void write_torch_zip_forcing_zip64(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  write_torch_zip_impl(path, tensors, true);
}
}  // namespace detail

}  // namespace trm::io
