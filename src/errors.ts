/**
 * Every error auth-kit raises is an {@link AuthKitError} with a stable string `code`.
 * One table in `src/http.ts` maps these codes to HTTP statuses.
 */

/**
 * The stable error codes. `switch (err.code)` narrows on them.
 *
 * | code | meaning |
 * | --- | --- |
 * | `configuration_error` | a setting is missing or unsafe (raised at construction) |
 * | `unsupported_database_url` | `openDatabase()` got a URL it cannot open |
 * | `migration_failed` | a migration could not be applied |
 * | `validation_failed` | input failed validation; `issues` lists the fields |
 * | `invalid_request` | a required credential field is missing or empty |
 * | `email_already_registered` | the email belongs to an existing account |
 * | `invalid_credentials` | unknown email, wrong password or inactive account (indistinguishable) |
 * | `invalid_token` | an access token failed verification; `reason` says why |
 * | `invalid_grant` | a refresh or password-reset token is unknown, spent, revoked or expired (RFC 6749 5.2) |
 * | `invalid_current_password` | a password change gave the wrong current password |
 * | `too_many_attempts` | too many failed logins for the account (or from the address); `retryAfterSeconds` says when to retry |
 */
export type AuthKitErrorCode =
  | 'configuration_error'
  | 'unsupported_database_url'
  | 'migration_failed'
  | 'validation_failed'
  | 'invalid_request'
  | 'email_already_registered'
  | 'invalid_credentials'
  | 'invalid_token'
  | 'invalid_grant'
  | 'invalid_current_password'
  | 'too_many_attempts';

/** One field-level problem found by validation. `path` is the dotted field name, e.g. `password`. */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Why an access token was rejected (`AuthKitError.reason` when `code === 'invalid_token'`).
 * Safe to log; never contains token material.
 */
export type InvalidTokenReason =
  | 'missing'
  | 'malformed'
  | 'too_large'
  | 'algorithm'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'claims'
  | 'type'
  | 'revoked';

/** Options accepted by the {@link AuthKitError} constructor. */
export interface AuthKitErrorOptions {
  /** The underlying error, kept for logs; never sent to a client. */
  cause?: unknown;
  /** Field-level problems for `validation_failed`. */
  issues?: readonly ValidationIssue[];
  /** A machine-readable sub-reason, e.g. `expired` for `invalid_token`. */
  reason?: InvalidTokenReason;
  /** For `too_many_attempts`: whole seconds until a retry can be accepted (the HTTP `Retry-After`). */
  retryAfterSeconds?: number;
}

/**
 * The one error class of auth-kit. `message` is safe to show to a user: it never contains a
 * password, a token, a secret or SQL text.
 *
 * @example
 * ```ts
 * try {
 *   await auth.register({ email, password });
 * } catch (err) {
 *   if (err instanceof AuthKitError && err.code === 'email_already_registered') { ... }
 *   else throw err;
 * }
 * ```
 */
export class AuthKitError extends Error {
  /** The stable code; see {@link AuthKitErrorCode}. */
  readonly code: AuthKitErrorCode;
  /** Field-level problems (only for `validation_failed`). */
  readonly issues: readonly ValidationIssue[];
  /** A machine-readable sub-reason (for `invalid_token`). */
  readonly reason: InvalidTokenReason | undefined;
  /** Whole seconds until a retry can be accepted (only for `too_many_attempts`). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: AuthKitErrorCode, message: string, options: AuthKitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuthKitError';
    this.code = code;
    this.issues = options.issues ?? [];
    this.reason = options.reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * True when `value` is an {@link AuthKitError}, optionally with the given code. Works across
 * duplicated copies of the package (ESM and CommonJS), where `instanceof` can fail.
 *
 * @example
 * ```ts
 * if (isAuthKitError(err, 'invalid_token')) return unauthorized();
 * ```
 */
export function isAuthKitError(value: unknown, code?: AuthKitErrorCode): value is AuthKitError {
  if (!(value instanceof Error) || value.name !== 'AuthKitError') return false;
  return code === undefined || (value as AuthKitError).code === code;
}
