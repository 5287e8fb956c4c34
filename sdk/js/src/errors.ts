// The contract's `connector-error`, thrown by plugins and by the helpers.
//
// An export that returns `result<T, connector-error>` returns `T`; throwing a
// `ConnectorError` makes the error result (componentize-js reads its
// `payload`). Statuses map the same way in every SDK: 401/403 `auth`, 404
// `not-found`, 429 `rate-limited`, other 4xx `permanent`, 5xx `provider`.

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

/**
 * Runs `operation` and turns anything it throws into a `ConnectorError`, so an
 * unexpected exception still reaches the host as a typed error (`provider`)
 * rather than a trap.
 */
export function guard<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof ConnectorError) throw error;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw ConnectorError.provider(`unexpected error in the plugin: ${message}`);
  }
}
