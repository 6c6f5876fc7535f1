// The description of a tensor as it lies in a checkpoint file, shared by the torch zip reader (docs/algorithm.md §7.3, 7.5)
// and the safetensors reader. Plain C++: the readers do not depend on LibTorch; the caller
// turns a RawTensor into a torch::Tensor (from_blob over `storage` + strides, then clone).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mapped_file.h"

namespace trm::io {

enum class DType { F32, F64, F16, BF16, I64, I32, I16, I8, U8, Bool };

/** Bytes per element. */
inline size_t dtype_size(DType d) {
  switch (d) {
    case DType::F64:
    case DType::I64: return 8;
    case DType::F32:
    case DType::I32: return 4;
    case DType::F16:
    case DType::BF16:
    case DType::I16: return 2;
    case DType::I8:
    case DType::U8:
    case DType::Bool: return 1;
  }
  return 1;
}

/** The torch name of a dtype ("float32", "bfloat16", ...), used in messages and by the addon. */
inline const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "float32";
    case DType::F64: return "float64";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    case DType::I64: return "int64";
    case DType::I32: return "int32";
    case DType::I16: return "int16";
    case DType::I8: return "int8";
    case DType::U8: return "uint8";
    case DType::Bool: return "bool";
  }
  return "unknown";
}

/**
 * A tensor found in a file. The bytes stay inside the memory mapping (zero copy); `file` keeps the mapping
 * alive. Element (i0, i1, ...) is at storage + (storage_offset + sum(ik * strides[k])) * dtype_size(dtype).
 * The readers have checked that every element lies inside [storage, storage + storage_nbytes).
 * `storage` may be unaligned for safetensors files written by other tools; copy before use as typed data.
 */
struct RawTensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;      // in elements, as stored (torch files may hold non-contiguous views)
  int64_t storage_offset = 0;        // in elements
  const uint8_t* storage = nullptr;  // start of the storage bytes inside the mapping
  uint64_t storage_nbytes = 0;
  std::shared_ptr<MappedFile> file;  // keeps the mapping alive
};

/** Contiguous row-major little-endian data to write. `data` may be null only when nbytes == 0. */
struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  uint64_t nbytes = 0;
};

}  // namespace trm::io
