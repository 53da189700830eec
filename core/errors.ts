/**
 * Every error a client can see: a stable snake_case code, an HTTP status and a default
 * message. The code reaches the client unchanged as `{"error": code, "message": ...}` over
 * HTTP and as `{"type": "error", "error": code, "message": ...}` over the websocket.
 */
export const errorCatalogue = {
  bad_request: [400, 'The request is malformed.'],
  invalid_field: [400, 'A field is missing or has a bad value.'],
  missing_title: [400, 'A message needs a title.'],
  bad_since: [400, '`since` must be a message key or seconds since the epoch.'],
  bad_limit: [400, '`limit` must be a whole number within the documented range.'],
  bad_key: [400, 'Not a message key of this queue.'],
  bad_action: [400, 'Unknown action.'],
  missing_token: [400, 'This request needs a token (X-Auth-Token header or `token`).'],
  invalid_token: [401, 'Unknown token.'],
  forbidden: [403, 'This token does not own this queue.'],
  not_found: [404, 'No such route.'],
  queue_not_found: [404, 'No such queue.'],
  message_not_found: [404, 'No such message.'],
  device_not_found: [404, 'No such device of this token.'],
  admin_disabled: [403, 'Application routes need PUSHWIRE_ADMIN_TOKEN to be configured.'],
  method_not_allowed: [405, 'Method not allowed on this route.'],
  too_many_queues: [409, 'This token owns the most queues allowed.'],
  too_many_devices: [409, 'This token has the most devices allowed.'],
  device_taken: [409, 'This device is registered to another user; it must be removed there first (or be declared dead by its push service).'],
  too_many_connections: [429, 'This address holds the most websockets allowed on this gateway; close one first.'],
  rate_limited: [429, 'Too many requests; retry after the seconds in Retry-After.'],
  payload_too_large: [413, 'The request body is larger than allowed.'],
  too_many_messages: [413, 'A batch holds more messages than allowed.'],
  uri_too_long: [414, 'A path segment is longer than allowed (128 characters).'],
  request_timeout: [408, 'The request did not arrive in time (PUSHWIRE_HTTP_HEADERS_TIMEOUT_MS for headers, PUSHWIRE_HTTP_REQUEST_TIMEOUT_MS for all of it).'],
  headers_too_large: [431, 'The request headers are larger than allowed (16 KiB).'],
  unsupported_media_type: [415, 'Send application/json or application/x-www-form-urlencoded.'],
  not_acceptable: [406, 'None of the media types in Accept can be answered (the Moxie API answers application/json and application/hal+json).'],
  unauthorized: [401, 'This API needs HTTP basic auth with the configured credentials.'],
  provider_error: [502, 'The push provider did not accept the notification.'],
  // Pushlet's codes and messages, verbatim from its documentation.
  missing_application_id: [400, 'an application_id is required for this call'],
  application_not_found: [404, 'no application found for the provided application_id'],
  missing_apns_certificate: [400, 'an apns_p12 or apns_pem certificate is required for this call'],
  invalid_apns_p12: [400, 'could not process apns_p12 certificate, check that it is in p12 format and is valid'],
  invalid_apns_pem: [400, 'could not process apns_pem certificate, check that it holds a PEM certificate and its private key'],
  missing_identifier: [400, 'an application_id or gcm_api_key are required for this call'],
  device_token_required: [400, 'device_token is required, which is registed with the application on your phone'],
  invalid_data_json: [400, 'data could not be converted to json'],
  invalid_gcm_credentials: [400, 'the provided credentials were rejected by google servers'],
  invalid_type: [400, 'type must be "apns" or "gcm"'],
  // Moxie's HMAC authentication.
  missing_signature: [401, 'Sign the request: X-Moxie-Key, X-HMAC-Nonce, Date and Authorization headers.'],
  unknown_api_key: [401, 'Unknown X-Moxie-Key.'],
  invalid_signature: [401, 'The Authorization signature does not match the request.'],
  stale_date: [401, 'The Date header is too far from now.'],
  replayed_nonce: [401, 'This X-HMAC-Nonce was already used.'],
  notification_not_found: [404, 'No such notification.'],
  followup_not_found: [404, 'No such follow up.'],
  unavailable: [503, 'The service is starting or shutting down; retry shortly.'],
  internal: [500, 'Internal error.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof errorCatalogue;

/** The request value an error is about, where one is: for the original service's error list. */
export interface ErrorField {
  location: 'body' | 'querystring' | 'path' | 'header';
  name: string;
}

/**
 * An error as HTTP answers it: Pushwire's `error` and `message`, and the original Mozilla
 * service's (cornice's) `status` and `errors`, so clients written for either read it.
 */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
  status: 'error';
  errors: [{ location: ErrorField['location']; name: string; description: string }];
}

export class PushwireError extends Error {
  readonly status: number;
  /** Sent as Retry-After with the error: when a 429 or 503 is worth retrying. */
  retryAfterSeconds?: number;
  constructor(readonly code: ErrorCode, message?: string, readonly field?: ErrorField) {
    super(message ?? errorCatalogue[code][1]);
    this.name = 'PushwireError';
    this.status = errorCatalogue[code][0];
  }

  /** Without a field, the list names the error's code, in the body (cornice's default location). */
  toJSON(): ErrorBody {
    const { location, name } = this.field ?? { location: 'body', name: this.code };
    return { error: this.code, message: this.message, status: 'error', errors: [{ location, name, description: this.message }] };
  }
}
