// Where a dataset's files live and how their problems are reported: shared by the metadata reader, the array
// loader and the collation (no ATen).
#pragma once

#include <string>

#include "../errors.h"

namespace trm::data::detail {

/** Every problem of a dataset file is trm::Error(DataFormat) naming the file. */
[[noreturn]] inline void data_error(const std::string& file, const std::string& what) {
  throw Error(ErrorCode::DataFormat, "invalid dataset file '" + file + "': " + what);
}

inline std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty() || a.back() == '/') return a + b;
  return a + "/" + b;
}

}  // namespace trm::data::detail
