// safetensors files: 8-byte little-endian header length N, N bytes of UTF-8 JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the tensor
// bytes (offsets relative to the end of the header), little-endian and row-major.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "raw_tensor.h"

namespace trm::io {

struct SafetensorsFile {
  std::vector<RawTensor> tensors;  // in data-offset order (the order they were written), contiguous strides
  std::map<std::string, std::string> metadata;
};

/**
 * Memory-maps and validates a safetensors file: header length within the file (and at most 100 MB, the
 * reference implementation's limit), well-formed JSON, dtypes F32/F64/F16/BF16/I64/I32/I16/I8/U8/BOOL,
 * shapes whose byte size equals end - begin, and data_offsets that tile the data buffer exactly (no gap, no
 * overlap, nothing left over). `__metadata__` must map strings to strings.
 * Throws trm::Error(IO) when the file cannot be opened, trm::Error(CheckpointFormat) when it is malformed.
 */
SafetensorsFile read_safetensors(const std::string& path);

/**
 * Writes the standard layout: header JSON padded with spaces to a multiple of 8 bytes (so the data starts
 * 8-aligned), then the tensors in the given order. Written atomically (write_file_atomic).
 * Throws trm::Error(InvalidArgument) for duplicate, reserved ("__metadata__") or non-UTF-8 names, negative
 * dims, or nbytes that do not match shape x dtype; trm::Error(IO) when writing fails.
 */
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace trm::io
