/**
 * The one error catalogue of the API: every error has a stable machine-readable code, an HTTP
 * status and a human message. Bodies are always `{"error": {"code", "message", "details"?}}`.
 */
export const ERRORS = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  invalid_cursor: 400,
  empty_audience: 400,
  schedule_in_past: 400,
  content_invalid: 400,
  unknown_channel: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  invalid_status: 409,
  conflict: 409,
  channel_in_use: 409,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  too_many_requests: 429,
  headers_too_large: 431,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = ERRORS[code];
  }

  toBody() {
    return { error: { code: this.code, message: this.message, ...(this.details !== undefined ? { details: this.details } : {}) } };
  }
}

export const notFound = (what: string) => new ApiError('not_found', `${what} not found`);
