/**
 * The route table of the HTTP protocol. A new endpoint is a new entry in {@link AUTH_ROUTES}; a new
 * grant of `POST /token` is a new entry in {@link TOKEN_GRANTS}. The adapters register whatever
 * paths the table lists, so they never change when a route is added.
 */
import type { RegisterInput } from './auth.js';
import { type AuthHttpResponse, HttpProblem, bearerToken, jsonResponse, userJson } from './http-protocol.js';
import {
  type AuthRouteContext,
  type AuthRouteTable,
  notAString,
  optionalParam,
  tokenResponse,
} from './http-route-kit.js';
import { SESSION_ROUTES } from './http-session-routes.js';

export {
  tokenResponse,
  type AuthRouteContext,
  type AuthRouteHandler,
  type AuthRouteMethod,
  type AuthRouteTable,
} from './http-route-kit.js';

/**
 * A grant of `POST /token` (RFC 6749 4.3 and later ones): form parameters in, token response out.
 *
 * @example
 * ```ts
 * const grant: TokenGrantHandler = async ({ auth }, params) => tokenResponse(await auth.login(params as never));
 * ```
 */
export type TokenGrantHandler = (context: AuthRouteContext, params: Record<string, unknown>) => Promise<AuthHttpResponse>;

/** `scope` is accepted and ignored (auth-kit issues one kind of token), but never coerced. */
function checkScope(params: Record<string, unknown>): void {
  const scope = optionalParam(params, 'scope');
  if (scope !== undefined && typeof scope !== 'string') throw notAString('scope');
}

/**
 * The grants `POST /token` supports, by `grant_type`. A new grant is a new entry here.
 *
 * @example
 * ```ts
 * Object.keys(TOKEN_GRANTS); // ['password', 'refresh_token']
 * ```
 */
export const TOKEN_GRANTS: Readonly<Record<string, TokenGrantHandler>> = Object.freeze({
  // Resource-owner password credentials (RFC 6749 4.3). `username` is the email.
  async password({ auth, client }, params) {
    checkScope(params);
    const token = await auth.login({ username: params.username as string, password: params.password as string }, client);
    return tokenResponse(token);
  },
  // RFC 6749 6: the refresh token is spent and the answer carries the next one (S17). A missing
  // one is invalid_request; an unknown, spent, revoked or expired one invalid_grant.
  async refresh_token({ auth, client }, params) {
    checkScope(params);
    return tokenResponse(await auth.refresh(params.refresh_token as string, client));
  },
});

/**
 * The routes mounted by every adapter's `authRoutes` (the opt-in status route comes on top). A new
 * endpoint is a new entry here; the adapters register every path listed (`:id` is a path
 * parameter, passed on as `AuthHttpRequest.params`).
 *
 * @example
 * ```ts
 * Object.keys(AUTH_ROUTES);
 * // ['/register', '/token', '/me', '/logout', '/sessions', '/sessions/:id', '/logout-all',
 * //  '/password', '/password-reset/request', '/password-reset/confirm']
 * ```
 */
export const AUTH_ROUTES: AuthRouteTable = Object.freeze({
  '/register': {
    async POST({ auth, params, client }) {
      // The schema keeps email, password and fullName only: privileged fields are dropped (S7).
      const input = (await params(['json'])) as unknown as RegisterInput;
      const user = await auth.register(input, client);
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
      // A failure throws: the handler maps it like authenticateRequest would (401 + challenge).
      return jsonResponse(200, userJson(await auth.authenticate(bearerToken(request.headers))));
    },
  },
  ...SESSION_ROUTES,
});
