/**
 * Errors of the HTTP solver service. Every error a client sees has the shape
 * `{ error: { code, message } }`: a {@link TrmError} keeps its `ERR_TRM_*` code (bad input → 4xx,
 * server-side failures → 500), HTTP-level refusals (busy, timeout, body too large, …) use the
 * service codes below, and nothing else ever leaks a stack trace or an internal message.
 */
import type { Socket } from 'net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, TrmError, type ErrorCode } from '../errors';

/** The HTTP-only refusal codes (defined with every other code in lib/errors.ts). */
export const ServiceErrorCodes = {
  NOT_FOUND: ErrorCodes.NOT_FOUND,
  METHOD_NOT_ALLOWED: ErrorCodes.METHOD_NOT_ALLOWED,
  BODY_TOO_LARGE: ErrorCodes.BODY_TOO_LARGE,
  UNSUPPORTED_MEDIA_TYPE: ErrorCodes.UNSUPPORTED_MEDIA_TYPE,
  INVALID_JSON: ErrorCodes.INVALID_JSON,
  BAD_REQUEST: ErrorCodes.BAD_REQUEST,
  BUSY: ErrorCodes.BUSY,
  TIMEOUT: ErrorCodes.TIMEOUT,
  SHUTTING_DOWN: ErrorCodes.SHUTTING_DOWN,
} as const;

/** One of the service's own codes. */
export type ServiceErrorCode = (typeof ServiceErrorCodes)[keyof typeof ServiceErrorCodes];

/** An HTTP-level refusal with its status code (and optional extra headers). */
export class ServiceError extends Error {
  /** Stable machine-readable code, one of {@link ServiceErrorCodes}. */
  readonly code: ServiceErrorCode;
  /** The HTTP status to answer with. */
  readonly statusCode: number;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ServiceErrorCode, statusCode: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** What a failure becomes on the wire. */
export interface HttpFailure {
  statusCode: number;
  body: ErrorBody;
  headers: Readonly<Record<string, string>>;
  /** A server-side fault worth logging with its stack (never sent to the client). */
  internal: boolean;
}

/** TrmError codes caused by the request itself; every other TrmError is the server's fault. */
const CLIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.INVALID_ARGUMENT,
  ErrorCodes.SHAPE,
  ErrorCodes.DTYPE,
  ErrorCodes.TOKEN_RANGE,
]);

/** One schema-validation error as Ajv reports it (with `verbose`: the value and its schema). */
interface SchemaIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  data?: unknown;
  parentSchema?: { description?: string };
}

/** A value for a message, cut short. */
function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The message of a size, range or pattern failure: the field, what was found, what was expected. */
function limitMessage(issue: SchemaIssue): string | undefined {
  const field = fieldName(issue.instancePath);
  const limit = issue.params.limit;
  const length = (issue.data as { length?: number } | undefined)?.length;
  switch (issue.keyword) {
    case 'pattern':
      return `${field} is ${preview(issue.data)}; expected ${issue.parentSchema?.description ?? 'the form GET /openapi.json documents'}`;
    case 'minItems':
      return `${field} has ${length} entries; expected at least ${limit}`;
    case 'maxItems':
      return `${field} has ${length} entries; expected at most ${limit}`;
    case 'minLength':
      return `${field} has ${length} characters; expected at least ${limit}`;
    case 'maxLength':
      return `${field} has ${length} characters; expected at most ${limit}`;
    case 'minimum':
      return `${field} is ${preview(issue.data)}; expected at least ${limit}`;
    case 'maximum':
      return `${field} is ${preview(issue.data)}; expected at most ${limit}`;
    default:
      return undefined;
  }
}

/** `/input/3/0` → `input[3][0]`; the empty path is the body itself. */
function fieldName(instancePath: string): string {
  if (!instancePath) return 'the body';
  return instancePath
    .slice(1)
    .replace(/\/(\d+)/g, '[$1]')
    .replace(/\//g, '.');
}

/** A readable message for schema-validation errors: the field, and what it must be. */
export function validationMessage(issues: readonly SchemaIssue[]): string {
  const first = issues[0];
  if (!first) return 'the body does not match the schema (see GET /openapi.json)';
  // A failed union reports each branch's complaint and then `anyOf`: say which types are allowed.
  const union = issues.find((i) => i.keyword === 'anyOf');
  if (union) {
    const types = issues
      .filter((i) => i.keyword === 'type' && i.instancePath === union.instancePath)
      .map((i) => `${/^[aeiou]/.test(String(i.params.type)) ? 'an' : 'a'} ${String(i.params.type)}`);
    const detail = issues.filter((i) => i.instancePath !== union.instancePath || (i.keyword !== 'type' && i.keyword !== 'anyOf'));
    // A branch of the right type failed deeper (e.g. too many rows): report that instead.
    if (detail.length > 0) return validationMessage(detail);
    return `${fieldName(union.instancePath)} must be ${types.length > 0 ? types.join(' or ') : 'one of the documented forms'}`;
  }
  if (first.keyword === 'additionalProperties')
    return `${fieldName(first.instancePath)} has an unknown field "${String(first.params.additionalProperty)}"`;
  if (first.keyword === 'required')
    return `${fieldName(first.instancePath)} is missing the field "${String(first.params.missingProperty)}"`;
  const limited = limitMessage(first);
  if (limited) return limited;
  return `${fieldName(first.instancePath)} ${first.message ?? 'is invalid'}`;
}

function failure(statusCode: number, code: string, message: string, headers: Record<string, string> = {}, internal = false): HttpFailure {
  return { statusCode, body: { error: { code, message } }, headers, internal };
}

/** Maps any thrown value to its HTTP status and `{ error: { code, message } }` body. */
export function toHttpFailure(err: unknown): HttpFailure {
  if (err instanceof ServiceError) return failure(err.statusCode, err.code, err.message, { ...err.headers });
  if (err instanceof TrmError) {
    if (CLIENT_CODES.has(err.code)) return failure(400, err.code, err.message);
    if (err.code === ErrorCodes.DISPOSED)
      return failure(503, ServiceErrorCodes.SHUTTING_DOWN, 'the solver is shutting down; retry on another instance');
    return failure(500, err.code, `the solver failed (${err.code}); the server log has the details`, {}, true);
  }
  const fe = err as Partial<FastifyError>;
  if (fe && typeof fe === 'object') {
    if (fe.validation) return failure(400, ErrorCodes.INVALID_ARGUMENT, validationMessage(fe.validation as SchemaIssue[]));
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return failure(413, ServiceErrorCodes.BODY_TOO_LARGE, 'the request body is larger than this server accepts');
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return failure(415, ServiceErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'send the body as JSON with the header Content-Type: application/json');
    if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
      return failure(400, ServiceErrorCodes.INVALID_JSON, 'the body is empty; send a JSON object');
    if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return failure(400, ServiceErrorCodes.INVALID_JSON, 'the body is not valid JSON');
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
      return failure(fe.statusCode, ServiceErrorCodes.BAD_REQUEST, fe.message ?? 'bad request');
  }
  return failure(500, ErrorCodes.INTERNAL, 'internal server error; the server log has the details', {}, true);
}

/** Fastify error handler: answers `{ error: { code, message } }` and logs server-side faults. */
export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const f = toHttpFailure(err);
  if (f.internal) request.log.error({ err }, 'request failed');
  else request.log.info({ code: f.body.error.code, status: f.statusCode }, f.body.error.message);
  return reply.code(f.statusCode).headers(f.headers).send(f.body);
}

/** The body of a 405: the route exists, but not for this method. */
export function methodNotAllowedBody(method: string, url: string, allowed: readonly string[]): ErrorBody {
  return { error: { code: ServiceErrorCodes.METHOD_NOT_ALLOWED, message: `${url} does not take ${method}; use ${allowed.join(' or ')}` } };
}

/** The message for an unknown route, pointing at the one solve route this server has. */
export function notFoundBody(method: string, url: string, kind: string): ErrorBody {
  const other = /^\/solve\/(sudoku|maze|arc)\/?(\?|$)/.exec(url);
  if (other && other[1] === kind) {
    return { error: { code: ServiceErrorCodes.NOT_FOUND, message: `use POST /solve/${kind} with a JSON body (got ${method})` } };
  }
  if (other) {
    return {
      error: {
        code: ServiceErrorCodes.NOT_FOUND,
        message: `this server solves ${kind} puzzles only; POST /solve/${kind} (GET /health tells the kind)`,
      },
    };
  }
  return { error: { code: ServiceErrorCodes.NOT_FOUND, message: `no route ${method} ${url.split('?')[0]}; see GET /openapi.json` } };
}

/**
 * Answers what Node's HTTP parser refuses before any route runs (malformed request lines or
 * headers, oversized headers, a missed header or request deadline) with the same
 * `{ error: { code, message } }` body as every other error, then closes the connection.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', ServiceErrorCodes.TIMEOUT, 'the request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', ServiceErrorCodes.BAD_REQUEST, 'the request headers are larger than this server accepts']
        : [400, 'Bad Request', ServiceErrorCodes.BAD_REQUEST, 'the request is not well-formed HTTP/1.1'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
