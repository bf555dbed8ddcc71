/**
 * The framework-free HTTP protocol of auth-kit: the request and response shapes the adapters
 * translate to and from, the one table that maps errors to statuses and OAuth error bodies, body
 * reading with a size limit, and bearer-token authentication. No framework is imported here.
 */
import type { Auth } from './auth.js';
import { resolveClientAddress } from './client-address.js';
import { type AuthKitErrorCode, isAuthKitError } from './errors.js';
import type { ClientContext } from './sessions.js';
import type { User } from './user-store.js';

/**
 * Request headers as the framework has them: a Node-style object with lower-cased names
 * (Express, Fastify), or a Fetch `Headers` (Hono).
 *
 * @example
 * ```ts
 * const fromNode: AuthHttpHeaders = req.headers;          // Express, Fastify
 * const fromFetch: AuthHttpHeaders = c.req.raw.headers;   // Hono
 * ```
 */
export type AuthHttpHeaders =
  | Readonly<Record<string, string | readonly string[] | undefined>>
  | { get(name: string): string | null };

/**
 * A request body as the framework hands it over.
 * - `none`: no body.
 * - `stream`: the raw bytes, not read yet; auth-kit reads them, counting bytes against the limit.
 * - `bytes`: the raw bytes, already read (e.g. by `express.raw()` or a cached Hono body).
 * - `parsed`: the app's own body parser already turned the body into an object (`express.json()`,
 *   `express.urlencoded()`, Hono's `parseBody()`); auth-kit uses that object.
 *
 * @example
 * ```ts
 * const body: AuthHttpBody = req.readableEnded ? { kind: 'parsed', value: req.body } : { kind: 'stream', stream: req };
 * ```
 */
export type AuthHttpBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'stream'; readonly stream: AsyncIterable<Uint8Array | string> }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array | string }
  | { readonly kind: 'parsed'; readonly value: unknown };

/**
 * The request shape every adapter builds from its framework's request.
 *
 * @example
 * ```ts
 * const response = await handler.handle({
 *   method: 'POST', path: '/token', query: '',
 *   headers: { 'content-type': 'application/x-www-form-urlencoded' },
 *   body: { kind: 'bytes', bytes: 'username=ada%40example.com&password=correct+horse+battery+staple' },
 * });
 * ```
 */
export interface AuthHttpRequest {
  /** The HTTP method, any case. */
  readonly method: string;
  /** The route path relative to the mount point, as listed in {@link AuthHandler.paths}, e.g. `/token`. */
  readonly path: string;
  readonly headers: AuthHttpHeaders;
  /** Default `{ kind: 'none' }`. */
  readonly body?: AuthHttpBody;
  /** The raw query string without `?` (`''` or absent when there is none). */
  readonly query?: string;
  /**
   * The socket's peer address (`req.socket.remoteAddress`), never a header-derived value such as
   * Express's `req.ip` behind `trust proxy`: auth-kit applies its own `trustedProxies` setting.
   */
  readonly remoteAddress?: string;
  /**
   * The route parameters the framework matched, e.g. `{ id: '…' }` for `/sessions/:id` (adapters
   * pass the route pattern as `path`). A caller without a framework may instead pass the concrete
   * path (`/sessions/abc`) and leave this out.
   */
  readonly params?: Readonly<Record<string, string | undefined>>;
}

/**
 * What the protocol answers: the adapter writes exactly this status, these headers and this body.
 * `error` is an unexpected error for the adapter to hand to the framework's logger (or `onError`):
 * set behind every 500, and behind an answer that must not reveal a failure (the app's password
 * reset mailer throwing, which would tell the caller that the email exists). It is never
 * serialised into `body`.
 *
 * @example
 * ```ts
 * res.writeHead(response.status, response.headers).end(response.body);
 * ```
 */
export interface AuthHttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Serialised JSON (HTML for the status page; empty for 204). */
  readonly body: string;
  readonly error?: unknown;
}

/**
 * Options shared by {@link createAuthHandler} and every adapter's `authRoutes` / `requireAuth`.
 *
 * @example
 * ```ts
 * app.use('/auth', authRoutes(auth, { maxBodyBytes: 8 * 1024, onError: (err) => logger.error(err) }));
 * ```
 */
export interface AuthHttpOptions {
  /** The largest request body accepted, in bytes; larger bodies get 413. Default 16 KiB. */
  readonly maxBodyBytes?: number;
  /**
   * Receives every unexpected error behind a `500 {"error":"server_error"}`, and a failure of the
   * app's `sendPasswordResetEmail` (answered 202 like any request, see the README). Default: the
   * framework's logger (Fastify `request.log.error`; `console.error` for Express and Hono, as
   * their default error handlers do).
   */
  readonly onError?: (error: unknown) => void;
  /**
   * Mounts the auth status (opt-in; off by default): `GET <path>` answers {@link getAuthStatus} as
   * JSON and `GET <path>.html` the {@link renderAuthDashboard} page, for requests `authorize`
   * accepts. A `status` without `authorize` is refused when the routes are created.
   */
  readonly status?: AuthStatusRouteOptions;
}

/**
 * Where the status route is mounted and who may read it. `authorize` gets the request in the
 * framework-neutral shape and the resolved client address; it must resolve to `true` to let the
 * request through (anything else → 403 `forbidden`). A throw is a 500, as any unexpected error.
 *
 * @example
 * ```ts
 * const status: AuthStatusRouteOptions = {
 *   path: '/status',
 *   authorize: async (request) => {
 *     const who = await authenticateRequest(auth, request.headers);
 *     return who.ok && ADMIN_EMAILS.has(who.user.email);
 *   },
 * };
 * app.use('/auth', authRoutes(auth, { status }));   // GET /auth/status, GET /auth/status.html
 * ```
 */
export interface AuthStatusRouteOptions {
  /** Relative to the mount point, e.g. `/status` (letters, digits, `-`, `_`, `.`, `~` and `/` only). */
  readonly path: string;
  readonly authorize: (request: AuthHttpRequest, context: { readonly clientAddress: string | null }) => boolean | Promise<boolean>;
}

/**
 * The default of {@link AuthHttpOptions.maxBodyBytes}: 16 KiB.
 *
 * @example
 * ```ts
 * authRoutes(auth, { maxBodyBytes: 2 * DEFAULT_MAX_BODY_BYTES });
 * ```
 */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/**
 * Problems found by the HTTP layer itself (the core's {@link AuthKitErrorCode}s cover the rest).
 * Each has a row in {@link HTTP_ERRORS}.
 *
 * @example
 * ```ts
 * const code: HttpProblemCode = 'body_too_large'; // HTTP_ERRORS[code].status === 413
 * ```
 */
export type HttpProblemCode =
  | 'malformed_body'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'unsupported_grant_type'
  | 'credentials_in_query'
  | 'method_not_allowed'
  | 'not_found'
  | 'missing_credentials'
  | 'malformed_authorization'
  | 'forbidden'
  | 'session_not_found'
  | 'password_reset_disabled'
  | 'server_error';

/**
 * A request problem found by the HTTP layer. Thrown by the route code and turned into a response
 * by {@link errorResponse} through {@link HTTP_ERRORS}, like an {@link AuthKitError}.
 *
 * @example
 * ```ts
 * throw new HttpProblem('unsupported_grant_type', 'Only the password grant is supported');
 * ```
 */
export class HttpProblem extends Error {
  readonly code: HttpProblemCode;
  /** For `method_not_allowed`: the `Allow` header value. */
  readonly allow: string | undefined;

  constructor(code: HttpProblemCode, message: string, options: { allow?: string } = {}) {
    super(message);
    this.name = 'HttpProblem';
    this.code = code;
    this.allow = options.allow;
  }
}

/**
 * One row of {@link HTTP_ERRORS}.
 *
 * @example
 * ```ts
 * const row: HttpErrorRow = HTTP_ERRORS.invalid_token; // { status: 401, error: 'invalid_token', challenge: 'error' }
 * ```
 */
export interface HttpErrorRow {
  readonly status: number;
  /** The `error` field of the body (RFC 6749 5.2 / RFC 6750 3.1 codes where one applies). */
  readonly error: string;
  /** A fixed `error_description`; when absent the error's own (safe) message is used. */
  readonly description?: string;
  /**
   * The `WWW-Authenticate` challenge: `bare` → `Bearer` (no credentials were sent, RFC 6750 3.1);
   * `error` → `Bearer error="<error>", error_description="…"`.
   */
  readonly challenge?: 'bare' | 'error';
  /** A server fault: the body is `{"error":"server_error"}` only and the error goes to the logger. */
  readonly internal?: true;
}

const SERVER_ERROR: HttpErrorRow = { status: 500, error: 'server_error', internal: true };

/**
 * THE table: every error code auth-kit can raise, and every HTTP-layer problem, mapped to a status
 * and an OAuth-style error body. Nothing else in auth-kit decides an HTTP status. Adding a code to
 * {@link AuthKitErrorCode} means adding its row here (the type checker insists).
 *
 * | code | status | `error` |
 * | --- | --- | --- |
 * | `validation_failed` | 422 | `invalid_request` (+ `issues`) |
 * | `invalid_request`, `malformed_body`, `credentials_in_query` | 400 | `invalid_request` |
 * | `email_already_registered` | 400 | `email_already_registered` |
 * | `unsupported_grant_type` | 400 | `unsupported_grant_type` |
 * | `invalid_credentials` | 401 | `invalid_grant`, `WWW-Authenticate: Bearer` |
 * | `invalid_grant` / `invalid_current_password` | 400 | same as the code |
 * | `too_many_attempts` | 429 | `too_many_attempts`, `Retry-After` |
 * | `missing_credentials` | 401 | `unauthorized`, `WWW-Authenticate: Bearer` |
 * | `malformed_authorization` | 401 | `invalid_request`, `WWW-Authenticate: Bearer error="invalid_request"` |
 * | `invalid_token` | 401 | `invalid_token`, `WWW-Authenticate: Bearer error="invalid_token"` |
 * | `forbidden` (the status route's `authorize` said no) | 403 | `forbidden` |
 * | `session_not_found` (not one of the caller's active sessions) | 404 | `not_found` |
 * | `password_reset_disabled` (no `sendPasswordResetEmail`) | 404 | `not_found` |
 * | `not_found` / `method_not_allowed` | 404 / 405 | `not_found` / `invalid_request` |
 * | `body_too_large` / `unsupported_media_type` | 413 / 415 | `invalid_request` |
 * | anything else | 500 | `server_error` |
 *
 * @example
 * ```ts
 * HTTP_ERRORS.email_already_registered.status; // 400
 * ```
 */
export const HTTP_ERRORS: Readonly<Record<AuthKitErrorCode | HttpProblemCode, HttpErrorRow>> = Object.freeze({
  // Core codes
  validation_failed: { status: 422, error: 'invalid_request' },
  invalid_request: { status: 400, error: 'invalid_request' },
  email_already_registered: { status: 400, error: 'email_already_registered', description: 'Email already registered' },
  // 401, as the reference service and the issue have it; RFC 7235 wants a challenge with a 401.
  invalid_credentials: { status: 401, error: 'invalid_grant', description: 'Incorrect email or password', challenge: 'bare' },
  invalid_token: { status: 401, error: 'invalid_token', challenge: 'error' },
  // RFC 6749 5.2: a refresh (or reset) token that is unknown, spent, revoked or expired.
  invalid_grant: { status: 400, error: 'invalid_grant' },
  invalid_current_password: { status: 400, error: 'invalid_current_password' },
  // S18: refused with 429 and `Retry-After` (from the error's `retryAfterSeconds`).
  too_many_attempts: { status: 429, error: 'too_many_attempts' },
  configuration_error: SERVER_ERROR,
  unsupported_database_url: SERVER_ERROR,
  migration_failed: SERVER_ERROR,
  // HTTP-layer problems
  malformed_body: { status: 400, error: 'invalid_request' },
  credentials_in_query: {
    status: 400,
    error: 'invalid_request',
    description: 'Credentials must be sent in the request body, not in the query string',
  },
  unsupported_grant_type: { status: 400, error: 'unsupported_grant_type' },
  missing_credentials: { status: 401, error: 'unauthorized', description: 'Authentication required', challenge: 'bare' },
  malformed_authorization: { status: 401, error: 'invalid_request', challenge: 'error' },
  forbidden: { status: 403, error: 'forbidden', description: 'Not allowed' },
  // Another user's session id is answered exactly like an unknown one: no oracle on session ids.
  session_not_found: { status: 404, error: 'not_found', description: 'No such active session' },
  password_reset_disabled: { status: 404, error: 'not_found', description: 'Password reset is not enabled' },
  not_found: { status: 404, error: 'not_found', description: 'Not found' },
  method_not_allowed: { status: 405, error: 'invalid_request' },
  body_too_large: { status: 413, error: 'invalid_request' },
  unsupported_media_type: { status: 415, error: 'invalid_request' },
  server_error: SERVER_ERROR,
});

/** Headers on every auth-kit response: JSON, and never cached (RFC 6749 5.1, 5.2). */
const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
});

/**
 * A JSON response with auth-kit's standard headers (`Cache-Control: no-store`, `Pragma: no-cache`).
 *
 * @example
 * ```ts
 * return jsonResponse(200, { ok: true });
 * ```
 */
export function jsonResponse(status: number, value: unknown, headers?: Record<string, string>): AuthHttpResponse {
  // The shared frozen headers when nothing is added (GET /me, the hot path): no copy per request.
  return { status, headers: headers === undefined ? BASE_HEADERS : { ...BASE_HEADERS, ...headers }, body: JSON.stringify(value) };
}

/**
 * `204 No Content`: an empty body, still `Cache-Control: no-store` and `Pragma: no-cache`.
 *
 * @example
 * ```ts
 * return noContentResponse(); // after a logout
 * ```
 */
export function noContentResponse(): AuthHttpResponse {
  return { status: 204, headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' }, body: '' };
}

/**
 * The `Content-Security-Policy` of the status page: it loads nothing and runs nothing (the same
 * policy as `examples/dashboard`).
 *
 * @example
 * ```ts
 * res.setHeader('Content-Security-Policy', STATUS_PAGE_CSP);
 * ```
 */
export const STATUS_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * An HTML page response: UTF-8, never cached, no sniffing, no referrer, and {@link STATUS_PAGE_CSP}.
 *
 * @example
 * ```ts
 * return htmlResponse(200, renderAuthDashboard(await getAuthStatus(auth)));
 * ```
 */
export function htmlResponse(status: number, html: string): AuthHttpResponse {
  return {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      Pragma: 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Content-Security-Policy': STATUS_PAGE_CSP,
    },
    body: html,
  };
}

/** RFC 6750 3: quoted-string values of the challenge may hold only %x20-21 / %x23-5B / %x5D-7E. */
function challengeText(text: string): string {
  return text.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '');
}

/**
 * Turns any thrown value into the response {@link HTTP_ERRORS} prescribes. An error that is not
 * an {@link AuthKitError} or {@link HttpProblem} becomes `500 {"error":"server_error"}` with the
 * error attached (not serialised) for logging.
 *
 * @example
 * ```ts
 * try { ... } catch (err) { return errorResponse(err); }
 * ```
 */
export function errorResponse(err: unknown): AuthHttpResponse {
  const code = err instanceof HttpProblem || isAuthKitError(err) ? err.code : undefined;
  const row = code === undefined ? undefined : (HTTP_ERRORS as Record<string, HttpErrorRow | undefined>)[code];
  if (row === undefined || row.internal) {
    return { ...jsonResponse(500, { error: 'server_error' }), error: err };
  }
  const description = row.description ?? (err as Error).message;
  const headers: Record<string, string> = {};
  if (row.challenge === 'bare') headers['WWW-Authenticate'] = 'Bearer';
  if (row.challenge === 'error') {
    headers['WWW-Authenticate'] = `Bearer error="${row.error}", error_description="${challengeText(description)}"`;
  }
  if (err instanceof HttpProblem && err.allow) headers.Allow = err.allow;
  const retryAfter = isAuthKitError(err) ? err.retryAfterSeconds : undefined;
  if (retryAfter !== undefined && Number.isFinite(retryAfter)) headers['Retry-After'] = String(Math.max(0, Math.ceil(retryAfter)));
  const body: Record<string, unknown> = { error: row.error, error_description: description };
  if (code === 'validation_failed' && isAuthKitError(err)) {
    body.issues = err.issues.map((issue) => ({ path: issue.path, message: issue.message }));
  }
  return jsonResponse(row.status, body, headers);
}

/**
 * Reads one header from either header form; a repeated header gives an array.
 *
 * @example
 * ```ts
 * getHeader(new Headers({ 'Content-Type': 'application/json' }), 'content-type'); // 'application/json'
 * ```
 */
export function getHeader(headers: AuthHttpHeaders, name: string): string | readonly string[] | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  return (headers as Record<string, string | readonly string[] | undefined>)[name];
}

function singleHeader(headers: AuthHttpHeaders, name: string): string | undefined {
  const value = getHeader(headers, name);
  return typeof value === 'string' ? value : value?.[0];
}

/**
 * The longest `User-Agent` passed on to the core (which also caps and cleans what it stores).
 *
 * @example
 * ```ts
 * clientContextOf(auth, { ...request, headers: { 'user-agent': 'x'.repeat(2000) } }).userAgent!.length; // 512
 * ```
 */
export const MAX_USER_AGENT_LENGTH = 512;

/**
 * Where a request came from, for sessions, events and throttling: the client address from the
 * socket's peer, believing `X-Forwarded-For` only from the proxies in `auth.settings.trustedProxies`
 * (see {@link resolveClientAddress}), and the `User-Agent` cut to {@link MAX_USER_AGENT_LENGTH}.
 *
 * @example
 * ```ts
 * const context = clientContextOf(auth, request); // { clientAddress: '203.0.113.9', userAgent: 'curl/8.5.0' }
 * await auth.login(credentials, context);
 * ```
 */
export function clientContextOf(auth: Pick<Auth, 'settings'>, request: AuthHttpRequest): Required<ClientContext> {
  const forwarded = getHeader(request.headers, 'x-forwarded-for');
  const clientAddress = resolveClientAddress(
    { remoteAddress: request.remoteAddress, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } },
    { trustedProxies: auth.settings.trustedProxies },
  );
  const agent = getHeader(request.headers, 'user-agent');
  const text = typeof agent === 'string' ? agent : agent?.join(', ');
  return { clientAddress, userAgent: text === undefined || text === '' ? null : text.slice(0, MAX_USER_AGENT_LENGTH) };
}

// ---------------------------------------------------------------------------------------------
// Bearer authentication (RFC 6750 2.1, 3; S14, S16)
// ---------------------------------------------------------------------------------------------

/** `Bearer` (any case), one or more spaces, one token68. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Extracts the bearer token from the `Authorization` header. No header → `missing_credentials`;
 * anything but `Bearer <token68>` (another scheme, `Bearer` alone, two tokens, a repeated header)
 * → `malformed_authorization`.
 *
 * @example
 * ```ts
 * bearerToken({ authorization: 'Bearer eyJ…' }); // 'eyJ…'
 * ```
 */
export function bearerToken(headers: AuthHttpHeaders): string {
  const value = getHeader(headers, 'authorization');
  if (value === undefined) throw new HttpProblem('missing_credentials', 'Authentication required');
  const match = typeof value === 'string' ? BEARER.exec(value.trim()) : null;
  if (!match) {
    throw new HttpProblem('malformed_authorization', 'The Authorization header must be "Bearer <access token>"');
  }
  return match[1];
}

/**
 * The result of {@link authenticateRequest}: the user, or the response to send instead.
 *
 * @example
 * ```ts
 * const result: AuthenticationResult = await authenticateRequest(auth, req.headers);
 * if (result.ok) console.log(result.user.id);
 * ```
 */
export type AuthenticationResult =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly response: AuthHttpResponse };

/**
 * Authenticates a request from its `Authorization: Bearer` header: the token is verified and its
 * user loaded through `auth.authenticate`. On failure, `response` is the complete 401 (or 500)
 * to send. Every adapter's `requireAuth` is this plus a line of framework glue.
 *
 * @example
 * ```ts
 * const result = await authenticateRequest(auth, req.headers);
 * if (!result.ok) return send(result.response);
 * console.log(result.user.email);
 * ```
 */
export async function authenticateRequest(auth: Auth, headers: AuthHttpHeaders): Promise<AuthenticationResult> {
  try {
    const token = bearerToken(headers);
    return { ok: true, user: await auth.authenticate(token) };
  } catch (err) {
    return { ok: false, response: errorResponse(err) };
  }
}

/**
 * A user as JSON: the documented fields only, dates as ISO strings, never the hash.
 *
 * @example
 * ```ts
 * jsonResponse(200, userJson(user)); // {"id":1,"email":"ada@example.com",…,"createdAt":"2030-01-01T00:00:00.000Z"}
 * ```
 */
export function userJson(user: User): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    fullName: user.fullName,
    isActive: user.isActive,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt === null ? null : user.updatedAt.toISOString(),
  };
}

// ---------------------------------------------------------------------------------------------
// Query strings
// ---------------------------------------------------------------------------------------------

/** Parameter names that carry credentials; never accepted in a query string (S11, RFC 6750 2.3). */
const CREDENTIAL_PARAMS = new Set(['username', 'password', 'client_secret', 'refresh_token', 'access_token', 'token']);

/**
 * Throws `credentials_in_query` when the query string carries a credential parameter.
 *
 * @example
 * ```ts
 * refuseQueryCredentials('lang=en');    // fine
 * refuseQueryCredentials('password=x'); // throws HttpProblem('credentials_in_query')
 * ```
 */
export function refuseQueryCredentials(query: string | undefined): void {
  if (!query) return;
  for (const name of new URLSearchParams(query).keys()) {
    if (CREDENTIAL_PARAMS.has(name.toLowerCase())) {
      throw new HttpProblem('credentials_in_query', 'Credentials must be sent in the request body');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Request bodies
// ---------------------------------------------------------------------------------------------

/**
 * The body formats a route accepts.
 *
 * @example
 * ```ts
 * const accepts: BodyFormat[] = ['form', 'json']; // what POST /token takes
 * ```
 */
export type BodyFormat = 'json' | 'form';

/** Extra bytes read and discarded after a 413, so the connection stays usable; beyond, it is cut. */
const DRAIN_BUDGET_BYTES = 1024 * 1024;

function byteLength(chunk: Uint8Array | string): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
}

/**
 * Reads and discards the rest of a body in the background after an early answer (as Node and
 * body-parser do), so a keep-alive connection can carry the next request. Past the budget the
 * stream is cancelled instead.
 */
function drain(iterator: AsyncIterator<Uint8Array | string>): void {
  void (async () => {
    let seen = 0;
    try {
      for (;;) {
        const { done, value } = await iterator.next();
        if (done) return;
        seen += byteLength(value);
        if (seen > DRAIN_BUDGET_BYTES) {
          await iterator.return?.();
          return;
        }
      }
    } catch {
      // The client went away; nothing to do.
    }
  })();
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem('body_too_large', `The request body is larger than ${limit} bytes`);
}

async function readStream(stream: AsyncIterable<Uint8Array | string>, limit: number): Promise<Uint8Array> {
  const iterator = stream[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await iterator.next();
    if (done) break;
    const chunk = typeof value === 'string' ? Buffer.from(value) : value;
    total += chunk.byteLength;
    if (total > limit) {
      // Counted as it streams: stop keeping bytes at once, answer 413, discard the rest.
      drain(iterator);
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

interface MediaType {
  readonly type: string;
  readonly charset: string | undefined;
}

function parseMediaType(value: string | undefined): MediaType | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const [type, ...params] = value.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq > 0 && param.slice(0, eq).trim().toLowerCase() === 'charset') {
      charset = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    }
  }
  return { type: type.trim().toLowerCase(), charset };
}

function formatOf(media: MediaType): BodyFormat | undefined {
  if (media.type === 'application/json' || /^application\/[^/]+\+json$/.test(media.type)) return 'json';
  if (media.type === 'application/x-www-form-urlencoded') return 'form';
  return undefined;
}

const ACCEPT_TEXT: Record<BodyFormat, string> = {
  json: 'application/json',
  form: 'application/x-www-form-urlencoded',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeText(bytes: Uint8Array | string): string {
  if (typeof bytes === 'string') return bytes;
  try {
    return utf8.decode(bytes);
  } catch {
    throw new HttpProblem('malformed_body', 'The request body is not valid UTF-8');
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Form fields as an object; a repeated field becomes an array (and so fails the string checks). */
function decodeForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const previous = out[key];
    if (previous === undefined) out[key] = value;
    else out[key] = Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return out;
}

function decodeJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpProblem('malformed_body', 'The request body is not valid JSON');
  }
  if (!isPlainObject(value)) throw new HttpProblem('malformed_body', 'The request body must be a JSON object');
  return value;
}

function drainUnread(body: AuthHttpBody): void {
  if (body.kind === 'stream') drain(body.stream[Symbol.asyncIterator]());
}

/**
 * Reads a request body into named parameters: a JSON object or form fields, per the formats the
 * route accepts. Size is checked against the declared `Content-Length` first and then counted as
 * the bytes stream (413); an unaccepted media type or a content encoding is 415; malformed JSON,
 * invalid UTF-8 or a JSON value that is not an object is 400. A body the app's own parser already
 * parsed is used as it is. No body at all (and no content type) gives `{}`.
 *
 * @example
 * ```ts
 * const params = await readParams(request, ['form', 'json'], 16 * 1024); // { username: '…', password: '…' }
 * ```
 */
export async function readParams(
  request: AuthHttpRequest,
  accepts: readonly BodyFormat[],
  limit: number,
): Promise<Record<string, unknown>> {
  const body = request.body ?? { kind: 'none' };
  const declared = Number(singleHeader(request.headers, 'content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    drainUnread(body);
    throw tooLarge(limit);
  }
  const media = parseMediaType(singleHeader(request.headers, 'content-type'));
  const encoding = singleHeader(request.headers, 'content-encoding');
  if (media === undefined) {
    // No content type: acceptable only for an empty body, which then has no parameters.
    const bytes = body.kind === 'none' ? '' : body.kind === 'stream' ? await readStream(body.stream, limit) : body.kind === 'bytes' ? body.bytes : undefined;
    if (bytes !== undefined && byteLength(bytes) === 0) return {};
    throw new HttpProblem('unsupported_media_type', `Content-Type must be ${accepts.map((f) => ACCEPT_TEXT[f]).join(' or ')}`);
  }
  const format = formatOf(media);
  const charsetOk = media.charset === undefined || media.charset === 'utf-8' || media.charset === 'utf8';
  const encodingOk = body.kind === 'parsed' || encoding === undefined || encoding.trim().toLowerCase() === 'identity';
  if (format === undefined || !accepts.includes(format) || !charsetOk || !encodingOk) {
    drainUnread(body);
    const what = !encodingOk ? 'Content-Encoding is not supported; send the body uncompressed' : !charsetOk ? 'The body must be UTF-8' : `Content-Type must be ${accepts.map((f) => ACCEPT_TEXT[f]).join(' or ')}`;
    throw new HttpProblem('unsupported_media_type', what);
  }
  if (body.kind === 'parsed' && typeof body.value !== 'string' && !(body.value instanceof Uint8Array)) {
    if (!isPlainObject(body.value)) throw new HttpProblem('malformed_body', 'The request body must be a JSON object');
    return body.value;
  }
  const raw =
    body.kind === 'none'
      ? ''
      : body.kind === 'stream'
        ? await readStream(body.stream, limit)
        : body.kind === 'bytes'
          ? body.bytes
          : (body.value as string | Uint8Array);
  if (byteLength(raw) > limit) throw tooLarge(limit);
  const text = decodeText(raw);
  return format === 'json' ? decodeJson(text) : decodeForm(text);
}
