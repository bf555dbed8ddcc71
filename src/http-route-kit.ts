/**
 * What every route of the HTTP protocol is built from: the route context and table types, the
 * RFC 6749 token response, parameter helpers and bearer authentication with claims. Shared by
 * `http-routes.ts`, `http-session-routes.ts` and `http-status-route.ts`; no framework here.
 */
import type { Auth } from './auth.js';
import { AuthKitError } from './errors.js';
import {
  type AuthHttpRequest,
  type AuthHttpResponse,
  type BodyFormat,
  bearerToken,
  jsonResponse,
} from './http-protocol.js';
import type { ClientContext, TokenResponse } from './sessions.js';
import type { AccessTokenClaims, AccessTokenResponse } from './tokens.js';
import type { User } from './user-store.js';

/**
 * What a route handler gets: the auth instance, the request, a body reader bound to the limit,
 * the route parameters and where the request came from.
 *
 * @example
 * ```ts
 * async function handler({ auth, params, client }: AuthRouteContext) {
 *   const body = await params(['json']);
 *   return tokenResponse(await auth.login(body as never, client));
 * }
 * ```
 */
export interface AuthRouteContext {
  readonly auth: Auth;
  readonly request: AuthHttpRequest;
  /** The body as named parameters (JSON object or form fields), size and media type checked. */
  params(accepts: readonly BodyFormat[]): Promise<Record<string, unknown>>;
  /** The path parameters of the route (`{ id }` for `/sessions/:id`). */
  readonly routeParams: Readonly<Record<string, string | undefined>>;
  /** The client address (trusted proxies applied) and user agent, for the core's flows. */
  readonly client: Required<ClientContext>;
}

/**
 * A route handler: returns the response, or throws an error that {@link HTTP_ERRORS} maps.
 *
 * @example
 * ```ts
 * const ping: AuthRouteHandler = async () => jsonResponse(200, { ok: true });
 * ```
 */
export type AuthRouteHandler = (context: AuthRouteContext) => Promise<AuthHttpResponse>;

/**
 * The methods a route table entry may define. HEAD is answered by GET.
 *
 * @example
 * ```ts
 * const method: AuthRouteMethod = 'POST';
 * ```
 */
export type AuthRouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Path (relative to the mount point; `:name` marks a path parameter) → method → handler.
 *
 * @example
 * ```ts
 * const table: AuthRouteTable = { '/ping': { GET: async () => jsonResponse(200, { ok: true }) } };
 * ```
 */
export type AuthRouteTable = Readonly<Record<string, Readonly<Partial<Record<AuthRouteMethod, AuthRouteHandler>>>>>;

/**
 * The RFC 6749 5.1 token response: snake_case fields, `no-store` (S9). A login or refresh result
 * (which carries a refresh token) adds `refresh_token` and `refresh_expires_in`.
 *
 * @example
 * ```ts
 * tokenResponse(await auth.login({ username, password }));
 * // 200 {"access_token":…,"token_type":"bearer","expires_in":1800,"refresh_token":…,"refresh_expires_in":1209600}
 * ```
 */
export function tokenResponse(token: AccessTokenResponse | TokenResponse): AuthHttpResponse {
  const body: Record<string, unknown> = {
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_in: token.expiresIn,
  };
  if ('refreshToken' in token && typeof token.refreshToken === 'string') {
    body.refresh_token = token.refreshToken;
    body.refresh_expires_in = token.refreshExpiresIn;
  }
  return jsonResponse(200, body);
}

/**
 * RFC 6749 3.1: a parameter sent without a value is treated as omitted. Non-strings are kept, so
 * the core refuses them with 422 rather than coercing them (S6).
 *
 * @example
 * ```ts
 * optionalParam({ scope: '' }, 'scope'); // undefined
 * ```
 */
export function optionalParam(params: Record<string, unknown>, name: string): unknown {
  const value = params[name];
  return value === '' || value === null ? undefined : value;
}

/**
 * The `validation_failed` error for a field that must be a string.
 *
 * @example
 * ```ts
 * if (typeof scope !== 'string') throw notAString('scope');
 * ```
 */
export function notAString(name: string): AuthKitError {
  return new AuthKitError('validation_failed', `The ${name} must be a string`, {
    issues: [{ path: name, message: 'Must be a string' }],
  });
}

/**
 * Authenticates the request's bearer token and returns the user with the verified claims
 * (`claims.sid` is the caller's session). Throws the errors `GET /me` answers with (401 and the
 * `WWW-Authenticate` challenge).
 *
 * @example
 * ```ts
 * const { user, claims } = await authenticateBearer(auth, request);
 * ```
 */
export function authenticateBearer(auth: Auth, request: AuthHttpRequest): Promise<{ user: User; claims: AccessTokenClaims }> {
  return auth.authenticateWithClaims(bearerToken(request.headers));
}
