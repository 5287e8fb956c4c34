// The contract's `connector-error`, thrown by plugins and by the helpers.
//
// An export that returns `result<T, connector-error>` returns `T`; throwing a
// `ConnectorError` makes the error result (componentize-js reads its
// `payload`). Statuses map the same way in every SDK (sdk/status-cases.json):
// 401/403 `auth`, 404 `not-found`, 429 `rate-limited`, other 4xx `permanent`,
// 5xx `provider`.

/** The `connector-error` variant as the bindings carry it. */
export type ConnectorErrorPayload =
  | { tag: "auth"; val: string }
  | { tag: "config"; val: string }
  | { tag: "validation"; val: string }
  | { tag: "rate-limited"; val: number | undefined }
  | { tag: "provider"; val: ProviderFailure }
  | { tag: "permanent"; val: ProviderFailure }
  | { tag: "not-found"; val: string }
  | { tag: "unsupported"; val: string }
  | { tag: "webhook-verification"; val: string };

/** What an upstream answered when it failed. */
export interface ProviderFailure {
  status: number | undefined;
  message: string;
}

/** A failure of an operation; thrown, it becomes the export's error result. */
export class ConnectorError extends Error {
  readonly payload: ConnectorErrorPayload;

  constructor(payload: ConnectorErrorPayload) {
    super(describe(payload));
    this.name = "ConnectorError";
    this.payload = payload;
  }

  /** The credentials were refused or are missing. */
  static auth(message: string): ConnectorError {
    return new ConnectorError({ tag: "auth", val: message });
  }
  /** The connection's settings or credentials are malformed. */
  static config(message: string): ConnectorError {
    return new ConnectorError({ tag: "config", val: message });
  }
  /** The operation's input is invalid; nothing was sent. */
  static validation(message: string): ConnectorError {
    return new ConnectorError({ tag: "validation", val: message });
  }
  /** The provider asked to slow down; `retryAfter` in seconds when known. */
  static rateLimited(retryAfter?: number): ConnectorError {
    const seconds = retryAfter === undefined ? undefined : Math.max(0, Math.ceil(retryAfter));
    return new ConnectorError({ tag: "rate-limited", val: seconds });
  }
  /** A transient provider failure; retrying later may succeed. */
  static provider(message: string, status?: number): ConnectorError {
    return new ConnectorError({ tag: "provider", val: { status, message } });
  }
  /** A failure that retrying will not fix. */
  static permanent(message: string, status?: number): ConnectorError {
    return new ConnectorError({ tag: "permanent", val: { status, message } });
  }
  /** The thing asked for does not exist. */
  static notFound(message: string): ConnectorError {
    return new ConnectorError({ tag: "not-found", val: message });
  }
  /** The provider or this plugin cannot do that. */
  static unsupported(message: string): ConnectorError {
    return new ConnectorError({ tag: "unsupported", val: message });
  }

  /** A webhook's signature or payload did not verify. */
  static webhookVerification(message: string): ConnectorError {
    return new ConnectorError({ tag: "webhook-verification", val: message });
  }

  /** Maps an HTTP status the same way every Patchbay SDK does. */
  static fromStatus(status: number, message: string, retryAfter?: number): ConnectorError {
    if (status === 401 || status === 403) return ConnectorError.auth(message);
    if (status === 404) return ConnectorError.notFound(message);
    if (status === 429) return ConnectorError.rateLimited(retryAfter);
    if (status >= 400 && status < 500) return ConnectorError.permanent(message, status);
    return ConnectorError.provider(message, status);
  }
}

function describe(payload: ConnectorErrorPayload): string {
  switch (payload.tag) {
    case "provider":
    case "permanent":
      return `${payload.tag}: ${payload.val.message}`;
    case "rate-limited":
      return payload.val === undefined ? "rate-limited" : `rate-limited: retry after ${payload.val}s`;
    default:
      return `${payload.tag}: ${payload.val}`;
  }
}

/** Whether trying again later may succeed: `rate-limited` and `provider`. */
export function isRetryable(error: ConnectorError): boolean {
  return error.payload.tag === "rate-limited" || error.payload.tag === "provider";
}

/** Why the host could not get a response, as the contract's `http-error`. */
export type HttpError =
  | { tag: "denied"; val: string }
  | { tag: "timeout"; val: string }
  | { tag: "connection"; val: string }
  | { tag: "too-large"; val: bigint }
  | { tag: "rate-limited"; val: number | undefined }
  | { tag: "circuit-open"; val: string }
  | { tag: "invalid-request"; val: string };

/** Maps the host's `http-error` the same way every SDK does (sdk/status-cases.json). */
export function fromHttpError(error: HttpError): ConnectorError {
  switch (error.tag) {
    case "denied":
      return ConnectorError.permanent(`denied by host policy: ${error.val}`);
    case "timeout":
      return ConnectorError.provider(`timed out: ${error.val}`);
    case "connection":
      return ConnectorError.provider(`connection failed: ${error.val}`);
    case "too-large":
      return ConnectorError.permanent(`response larger than the host's limit of ${error.val} bytes`);
    case "rate-limited":
      return ConnectorError.rateLimited(error.val);
    case "circuit-open":
      return ConnectorError.provider(`circuit open: ${error.val}`);
    case "invalid-request":
      return ConnectorError.validation(`invalid request: ${error.val}`);
  }
}

/**
 * Runs `operation` and turns anything it throws that is not a
 * `ConnectorError` (a bug) into a `permanent` error, its message after
 * `context`: retrying a bug cannot help. Every export already runs this way
 * (see `exports.ts`); use it for code called another way.
 */
export function guard<T>(operation: () => T, context = "the plugin failed"): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw ConnectorError.permanent(`${context}: ${message}`);
  }
}
