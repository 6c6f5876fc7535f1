/**
 * Every failure trm-native reports is a {@link TrmError} with a stable `code` (docs/design.md,
 * "Principles"). The same class is handed to the native addon at load time, so errors raised in
 * C++ arrive in JavaScript as `TrmError` instances too.
 */

/** All error codes, in one place. */
export const ErrorCodes = {
  /** An argument has the wrong type, range or value. */
  INVALID_ARGUMENT: 'ERR_TRM_INVALID_ARGUMENT',
  /** A tensor has the wrong shape. */
  SHAPE: 'ERR_TRM_SHAPE',
  /** A tensor has the wrong dtype. */
  DTYPE: 'ERR_TRM_DTYPE',
  /** A token id is outside [0, vocab) or a puzzle id outside the embedding table. */
  TOKEN_RANGE: 'ERR_TRM_TOKEN_RANGE',
  /** A model or training config is invalid. */
  CONFIG: 'ERR_TRM_CONFIG',
  /** A checkpoint is missing keys, has unexpected keys, or a tensor of the wrong shape. */
  CHECKPOINT_KEY: 'ERR_TRM_CHECKPOINT_KEY',
  /** A checkpoint file is malformed or truncated. */
  CHECKPOINT_FORMAT: 'ERR_TRM_CHECKPOINT_FORMAT',
  /** A file could not be read or written. */
  IO: 'ERR_TRM_IO',
  /** A data file (.npy, dataset.json, ...) is malformed. */
  DATA_FORMAT: 'ERR_TRM_DATA_FORMAT',
  /** The requested device is not available in this build or on this machine. */
  DEVICE: 'ERR_TRM_DEVICE',
  /** The native addon could not be loaded. */
  NATIVE_LOAD: 'ERR_TRM_NATIVE_LOAD',
  /** An object was used after dispose(). */
  DISPOSED: 'ERR_TRM_DISPOSED',
  /** An operation was called in the wrong state (e.g. backward without a step). */
  STATE: 'ERR_TRM_STATE',
  /** A distributed peer died, timed out, or the rendezvous failed. */
  DIST: 'ERR_TRM_DIST',
  /** The operation was stopped by the user. */
  CANCELLED: 'ERR_TRM_CANCELLED',
  /** LibTorch raised an error that has no more specific code. */
  TORCH: 'ERR_TRM_TORCH',
  /** Any other internal failure. */
  INTERNAL: 'ERR_TRM_INTERNAL',
  // Refusals that only exist over HTTP (trm serve, lib/service):
  /** No such route, or the server does not serve that puzzle kind. */
  NOT_FOUND: 'ERR_TRM_NOT_FOUND',
  /** The route exists but not for this method (the `Allow` header lists the ones it takes). */
  METHOD_NOT_ALLOWED: 'ERR_TRM_METHOD_NOT_ALLOWED',
  /** The body is larger than the server's limit. */
  BODY_TOO_LARGE: 'ERR_TRM_BODY_TOO_LARGE',
  /** The body is not `application/json`. */
  UNSUPPORTED_MEDIA_TYPE: 'ERR_TRM_UNSUPPORTED_MEDIA_TYPE',
  /** The body is not well-formed JSON (or is empty). */
  INVALID_JSON: 'ERR_TRM_INVALID_JSON',
  /** Any other malformed request. */
  BAD_REQUEST: 'ERR_TRM_BAD_REQUEST',
  /** The concurrency cap is reached (a server's, or a SolverPool's maxPending); retry later (over HTTP: after `Retry-After` seconds). */
  BUSY: 'ERR_TRM_BUSY',
  /** The request took longer than the server's timeout and was aborted. */
  TIMEOUT: 'ERR_TRM_TIMEOUT',
  /** The server is shutting down and takes no new work. */
  SHUTTING_DOWN: 'ERR_TRM_SHUTTING_DOWN',
} as const;

/** One of the `ERR_TRM_*` codes. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The error class of every failure raised by trm-native. */
export class TrmError extends Error {
  /** Stable machine-readable code, one of {@link ErrorCodes}. */
  readonly code: ErrorCode;
  /** Native backtrace or other detail kept out of the message, when there is one. */
  readonly detail?: string;

  constructor(code: ErrorCode, message: string, detail?: string) {
    super(message);
    this.name = 'TrmError';
    this.code = code;
    if (detail) this.detail = detail;
  }
}

/** Throws a {@link TrmError} with code INVALID_ARGUMENT unless `cond` holds. */
export function check(cond: unknown, message: string, code: ErrorCode = ErrorCodes.INVALID_ARGUMENT): asserts cond {
  if (!cond) throw new TrmError(code, message);
}
