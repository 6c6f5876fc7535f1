// Memory-mapped reader of NumPy `.npy` files, the array format of every dataset (docs/algorithm.md §5.1, §5.3).
// Plain C++ (no ATen): the dataset loader converts rows itself, so this stays a cheap translation unit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../io/mapped_file.h"

namespace trm::data {

/** The integer and boolean dtypes a dataset may use (docs/algorithm.md §5.3: any integer dtype for inputs and labels). */
enum class NpyDType { U8, I8, I16, U16, I32, U32, I64, U64, Bool };

/** Bytes per element. */
size_t npy_dtype_size(NpyDType d);
/** The NumPy descr of a dtype as np.save writes it ("|u1", "<i4", "|b1", ...). */
const char* npy_dtype_descr(NpyDType d);

/**
 * A read-only view of one `.npy` file: the header fields and a pointer into the mapping, which the view keeps
 * alive. Data are little-endian and C-ordered (anything else is rejected when the file is opened). The
 * pointer need not be aligned for the element type; read with element() or memcpy.
 */
struct NpyArray {
  std::string path;
  NpyDType dtype = NpyDType::U8;
  std::vector<int64_t> shape;  // empty for a 0-d array
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;
  std::shared_ptr<const io::MappedFile> mapping;

  int64_t numel() const;
  /** Element `i` of the flattened array as int64 (u64 values above INT64_MAX wrap; see to_int64_vector). */
  int64_t element(int64_t i) const;
};

/**
 * Maps `path` and parses its header: format versions 1.0, 2.0 and 3.0; dtypes |u1 |i1 <i2 <u2 <i4 <u4 <i8 <u8
 * |b1 (any byte-order mark on one-byte types); C order, or Fortran order where the bytes are the same (at
 * most one dimension above 1). Throws trm::Error(IO) when the file cannot be opened, and
 * trm::Error(DataFormat) naming the file for a bad magic string or version, a malformed header, any other
 * dtype (floats, big-endian, structured, object), real Fortran order, or data shorter than the shape needs.
 * Bytes after the data are ignored, as np.load does.
 */
NpyArray read_npy(const std::string& path);

/** The same over an existing mapping (its path names the file in messages). */
NpyArray parse_npy(std::shared_ptr<const io::MappedFile> file);

/**
 * Copies a 1-D array into memory as int64 (the index arrays are small and read at random, docs/algorithm.md §5.1).
 * Throws trm::Error(DataFormat) when the array is not 1-D or holds a u64 value above INT64_MAX.
 */
std::vector<int64_t> to_int64_vector(const NpyArray& a);

}  // namespace trm::data
