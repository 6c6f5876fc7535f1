// The torch storage classes (torch.FloatStorage, ...) that torch.save names in the persistent id of each
// storage, and the dtype each one holds: read by the unpickler, written by the pickler.
#pragma once

#include "raw_tensor.h"

namespace trm::io::detail {

struct StorageClass {
  const char* name;
  DType dtype;
};
inline constexpr StorageClass kStorageClasses[] = {
    {"FloatStorage", DType::F32}, {"DoubleStorage", DType::F64}, {"HalfStorage", DType::F16},  {"BFloat16Storage", DType::BF16},
    {"LongStorage", DType::I64},  {"IntStorage", DType::I32},    {"ShortStorage", DType::I16}, {"CharStorage", DType::I8},
    {"ByteStorage", DType::U8},   {"BoolStorage", DType::Bool},
};

}  // namespace trm::io::detail
