/**
 * The route table of the HTTP protocol. A new endpoint is a new entry in {@link AUTH_ROUTES}; a new
 * grant of `POST /token` is a new entry in {@link TOKEN_GRANTS}. The adapters register whatever
 * paths the table lists, so they never change when a route is added.
 */
import type { Auth, RegisterInput } from './auth.js';
import { AuthKitError } from './errors.js';
import {
  type AuthHttpRequest,
  type AuthHttpResponse,
  type BodyFormat,
  HttpProblem,
  authenticateRequest,
  jsonResponse,
  readParams,
  userJson,
} from './http-protocol.js';
import type { AccessTokenResponse } from './tokens.js';

/**
 * What a route handler gets: the auth instance, the request, and a body reader bound to the limit.
 *
 * @example
 * ```ts
 * async function handler({ auth, params }: AuthRouteContext) { const body = await params(['json']); … }
 * ```
 */
export interface AuthRouteContext {
  readonly auth: Auth;
  readonly request: AuthHttpRequest;
  /** The body as named parameters (JSON object or form fields), size and media type checked. */
  params(accepts: readonly BodyFormat[]): Promise<Record<string, unknown>>;
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
 * Path (relative to the mount point) → method → handler.
 *
 * @example
 * ```ts
 * const table: AuthRouteTable = { '/ping': { GET: async () => jsonResponse(200, { ok: true }) } };
 * ```
 */
export type AuthRouteTable = Readonly<Record<string, Readonly<Partial<Record<AuthRouteMethod, AuthRouteHandler>>>>>;

/**
 * A grant of `POST /token` (RFC 6749 4.3 and later ones): form parameters in, token response out.
 *
 * @example
 * ```ts
 * const grant: TokenGrantHandler = async ({ auth }, params) => tokenResponse(await auth.login(params as never));
 * ```
 */
export type TokenGrantHandler = (context: AuthRouteContext, params: Record<string, unknown>) => Promise<AuthHttpResponse>;

/**
 * The RFC 6749 5.1 token response: snake_case fields, `no-store` (S9).
 *
 * @example
 * ```ts
 * tokenResponse(await auth.login({ username, password })); // 200 {"access_token":…,"token_type":"bearer","expires_in":1800}
 * ```
 */
export function tokenResponse(token: AccessTokenResponse, extra: Record<string, unknown> = {}): AuthHttpResponse {
  return jsonResponse(200, {
    access_token: token.accessToken,
    token_type: token.tokenType,
    expires_in: token.expiresIn,
    ...extra,
  });
}

/** RFC 6749 3.1: a parameter sent without a value is treated as omitted. Non-strings are kept (→ 422). */
function optionalParam(params: Record<string, unknown>, name: string): unknown {
  const value = params[name];
  return value === '' || value === null ? undefined : value;
}

function notAString(name: string): AuthKitError {
  return new AuthKitError('validation_failed', `The ${name} must be a string`, {
    issues: [{ path: name, message: 'Must be a string' }],
  });
}

/**
 * The grants `POST /token` supports, by `grant_type`. A new grant is a new entry here.
 *
 * @example
 * ```ts
 * Object.keys(TOKEN_GRANTS); // ['password']
 * ```
 */
export const TOKEN_GRANTS: Readonly<Record<string, TokenGrantHandler>> = Object.freeze({
  // Resource-owner password credentials (RFC 6749 4.3). `username` is the email.
  async password({ auth }, params) {
    const scope = optionalParam(params, 'scope');
    if (scope !== undefined && typeof scope !== 'string') throw notAString('scope');
    const token = await auth.login({ username: params.username as string, password: params.password as string });
    return tokenResponse(token);
  },
});

/**
 * The routes mounted by every adapter's `authRoutes`. A new endpoint is a new entry here; the
 * adapters register every path listed.
 *
 * @example
 * ```ts
 * Object.keys(AUTH_ROUTES); // ['/register', '/token', '/me']
 * ```
 */
export const AUTH_ROUTES: AuthRouteTable = Object.freeze({
  '/register': {
    async POST({ auth, params }) {
      // The schema keeps email, password and fullName only: privileged fields are dropped (S7).
      const user = await auth.register((await params(['json'])) as unknown as RegisterInput);
      return jsonResponse(201, userJson(user));
    },
  },
  '/token': {
    async POST(context) {
      const params = await context.params(['form', 'json']);
      const grantType = optionalParam(params, 'grant_type') ?? 'password';
      if (typeof grantType !== 'string') throw notAString('grant_type');
      const grant = Object.hasOwn(TOKEN_GRANTS, grantType) ? TOKEN_GRANTS[grantType] : undefined;
      if (!grant) {
        const supported = Object.keys(TOKEN_GRANTS).join(', ');
        throw new HttpProblem('unsupported_grant_type', `The grant type is not supported; supported: ${supported}`);
      }
      return grant(context, params);
    },
  },
  '/me': {
    async GET({ auth, request }) {
      const result = await authenticateRequest(auth, request.headers);
      return result.ok ? jsonResponse(200, userJson(result.user)) : result.response;
    },
  },
});
