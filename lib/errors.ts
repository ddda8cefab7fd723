/**
 * Error types and the helpers that make them. Kernel refusals are
 * NetlinkError; bad input is TypeError/RangeError with Node's codes.
 */
import { constants as osConstants } from 'node:os';
import * as util from 'node:util';
import { ERESTART } from './netlink/constants';

const systemErrors = util.getSystemErrorMap();

// Where two names share a number, the one the kernel's network code uses
// (and glibc's strerrorname_np returns): libuv says ENOTSUP for 95.
// ERESTART is kernel-internal and unknown to libuv, but nfnetlink returns it.
const PREFERRED_NAMES: Record<number, string> = {
  [osConstants.errno.EOPNOTSUPP]: 'EOPNOTSUPP',
  [ERESTART]: 'ERESTART',
};

/** The errno name ('EEXIST') of a positive errno. */
export function errnoName(errno: number): string {
  return PREFERRED_NAMES[errno] ?? systemErrors.get(-errno)?.[0] ?? `E${errno}`;
}

function errnoText(errno: number): string {
  return systemErrors.get(-errno)?.[1] ?? `error ${errno}`;
}

/** Where the kernel's extended ACK pointed, besides its text. */
export interface ExtackDetails {
  /** Byte offset of the offending attribute from the start of the request. */
  offset?: number;
  /** Type of an attribute the kernel said was missing. */
  missingType?: number;
  /** Byte offset of the nest the missing attribute belongs in. */
  missingNestOffset?: number;
}

/**
 * A request the kernel refused.
 *
 * @example
 * try { await nl.link.add({ name: 'lo', kind: 'dummy' }) }
 * catch (e) { if (e instanceof NetlinkError && e.code === 'EEXIST') ... }
 */
export class NetlinkError extends Error {
  /** errno name, e.g. 'EEXIST'. */
  readonly code: string;
  /** Positive errno, as in os.constants.errno. */
  readonly errno: number;
  /** The request's message type, e.g. 'RTM_NEWLINK'. */
  readonly operation: string;
  /** The kernel's extended-ACK message, when it sent one. */
  readonly extack?: string;
  readonly details?: ExtackDetails;

  constructor(errno: number, operation: string, extack?: string, details?: ExtackDetails) {
    const code = errnoName(errno);
    super(`${operation}: ${extack ? `${extack} (${code})` : `${errnoText(errno)} (${code})`}`);
    this.name = 'NetlinkError';
    this.code = code;
    this.errno = errno;
    this.operation = operation;
    if (extack !== undefined) this.extack = extack;
    if (details !== undefined) this.details = details;
  }
}

/** A handle (or socket) used after close(). */
export function closedError(what = 'handle'): Error {
  const error = new Error(`The netlink ${what} is closed`) as Error & { code: string };
  error.code = 'ERR_RTNL_CLOSED';
  return error;
}

/** Node's AbortError shape: name 'AbortError', code 'ABORT_ERR'. */
export function abortError(signal?: AbortSignal): Error {
  const error = new Error('The operation was aborted', { cause: signal?.reason }) as Error & { code: string };
  error.name = 'AbortError';
  error.code = 'ABORT_ERR';
  return error;
}

/** A dump the kernel kept interrupting (NLM_F_DUMP_INTR) beyond the retry budget. */
export class DumpInterruptedError<T = unknown> extends Error {
  readonly code = 'ERR_RTNL_DUMP_INTERRUPTED';
  readonly operation: string;
  /** What the last attempt returned: possibly inconsistent. */
  readonly partial: T[];

  constructor(operation: string, attempts: number, partial: T[]) {
    super(`${operation}: dump interrupted by concurrent changes ${attempts} times; results may be inconsistent`);
    this.name = 'DumpInterruptedError';
    this.operation = operation;
    this.partial = partial;
  }
}

/** A message the codec could not decode (truncated, malformed). */
export class DecodeError extends Error {
  readonly code = 'ERR_RTNL_DECODE';
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

type CodedError<E extends Error> = E & { code: string };

/** TypeError with code ERR_INVALID_ARG_TYPE, as Node throws for a wrong type. */
export function invalidType(name: string, expected: string, actual: unknown): CodedError<TypeError> {
  const error = new TypeError(
    `The "${name}" argument must be ${expected}. Received ${describe(actual)}`,
  ) as CodedError<TypeError>;
  error.code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

/** TypeError with code ERR_INVALID_ARG_VALUE, for a value of the right type that is not valid. */
export function invalidValue(name: string, value: unknown, reason: string): CodedError<TypeError> {
  const error = new TypeError(`The "${name}" argument ${reason}. Received ${describe(value)}`) as CodedError<TypeError>;
  error.code = 'ERR_INVALID_ARG_VALUE';
  return error;
}

/**
 * RangeError for a number outside its range. Its code is ERR_INVALID_ARG_VALUE
 * (API.md's convention; Node itself uses that code on RangeErrors too).
 */
export function outOfRange(name: string, range: string, value: unknown): CodedError<RangeError> {
  const error = new RangeError(
    `The value of "${name}" is out of range. It must be ${range}. Received ${describe(value)}`,
  ) as CodedError<RangeError>;
  error.code = 'ERR_INVALID_ARG_VALUE';
  return error;
}

/**
 * Says what was being done in a native system error's message (`code`,
 * `errno` and `syscall` stay), and which path, where one is given. Any other
 * error is returned as it came.
 */
export function annotateSystemError(error: unknown, prefix: string, path?: string, hint = ''): unknown {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.message !== 'string' || e.code === undefined) return error;
  e.message = `${prefix}: ${e.message}${hint}`;
  if (path !== undefined) e.path = path;
  return e;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an instance of Array';
  return `an instance of ${value.constructor?.name ?? 'Object'}`;
}
