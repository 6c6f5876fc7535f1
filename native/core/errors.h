// Typed failures of the C++ core. The addon maps each to a JavaScript TrmError carrying the same
// code (docs/design.md, principle 5); the codes mirror lib/errors.ts.
#pragma once

#include <stdexcept>
#include <string>

namespace trm {

enum class ErrorCode {
  InvalidArgument,
  Shape,
  DType,
  TokenRange,
  Config,
  CheckpointKey,
  CheckpointFormat,
  IO,
  DataFormat,
  Device,
  State,
  Dist,
  Cancelled,
  Internal,
};

/** The `ERR_TRM_*` string of a code, as lib/errors.ts names it. */
inline const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::InvalidArgument: return "ERR_TRM_INVALID_ARGUMENT";
    case ErrorCode::Shape: return "ERR_TRM_SHAPE";
    case ErrorCode::DType: return "ERR_TRM_DTYPE";
    case ErrorCode::TokenRange: return "ERR_TRM_TOKEN_RANGE";
    case ErrorCode::Config: return "ERR_TRM_CONFIG";
    case ErrorCode::CheckpointKey: return "ERR_TRM_CHECKPOINT_KEY";
    case ErrorCode::CheckpointFormat: return "ERR_TRM_CHECKPOINT_FORMAT";
    case ErrorCode::IO: return "ERR_TRM_IO";
    case ErrorCode::DataFormat: return "ERR_TRM_DATA_FORMAT";
    case ErrorCode::Device: return "ERR_TRM_DEVICE";
    case ErrorCode::State: return "ERR_TRM_STATE";
    case ErrorCode::Dist: return "ERR_TRM_DIST";
    case ErrorCode::Cancelled: return "ERR_TRM_CANCELLED";
    case ErrorCode::Internal: return "ERR_TRM_INTERNAL";
  }
  return "ERR_TRM_INTERNAL";
}

/** An error with a stable code; the message says what was expected, what was found, and how to fix it. */
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace trm
