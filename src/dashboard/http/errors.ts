// Errors a route throws to answer with a status and an ApiError body. Any
// other exception becomes a 500 with a request id: its message and stack
// go to the server log, never to the client.
import type { ApiErrorCode } from '../api-types.js';

const STATUS: Record<ApiErrorCode, string> = {
  bad_request: '400 Bad Request',
  unauthorized: '401 Unauthorized',
  forbidden: '403 Forbidden',
  csrf: '403 Forbidden',
  not_found: '404 Not Found',
  method_not_allowed: '405 Method Not Allowed',
  conflict: '409 Conflict',
  payload_too_large: '413 Payload Too Large',
  rate_limited: '429 Too Many Requests',
  internal: '500 Internal Server Error',
  unavailable: '503 Service Unavailable',
  query_too_large: '503 Service Unavailable',
  audit_unavailable: '503 Service Unavailable',
};

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
    /** extra response headers (Retry-After, Allow) */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): string {
    return STATUS[this.code];
  }
}

export function statusLine(code: ApiErrorCode): string {
  return STATUS[code];
}

/** 400 naming the field: `limit must be an integer from 1 to 500, got "x"`. */
export function badField(field: string, problem: string, got?: unknown): HttpError {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(typeof got === 'string' && got.length > 80 ? `${got.slice(0, 80)}...` : got)}`;
  return new HttpError('bad_request', `${field} ${problem}${shown}`, field);
}

export const notFound = (what: string): HttpError => new HttpError('not_found', `${what} not found`);
