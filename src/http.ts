/**
 * The HTTP handler of auth-kit, framework-free: an {@link AuthHttpRequest} in, an
 * {@link AuthHttpResponse} out. The Express, Hono and Fastify adapters only translate to and from
 * these shapes; every status, header and error body is decided here and in `http-protocol.ts`.
 */
import type { Auth } from './auth.js';
import { AuthKitError } from './errors.js';
import {
  type AuthHttpOptions,
  type AuthHttpRequest,
  type AuthHttpResponse,
  DEFAULT_MAX_BODY_BYTES,
  HttpProblem,
  clientContextOf,
  errorResponse,
  readParams,
  refuseQueryCredentials,
} from './http-protocol.js';
import type { AuthRouteContext, AuthRouteMethod, AuthRouteTable } from './http-route-kit.js';
import { AUTH_ROUTES } from './http-routes.js';
import { statusRoutes } from './http-status-route.js';

export {
  DEFAULT_MAX_BODY_BYTES,
  HTTP_ERRORS,
  HttpProblem,
  authenticateRequest,
  errorResponse,
  jsonResponse,
  type AuthHttpBody,
  type AuthHttpHeaders,
  type AuthHttpOptions,
  type AuthHttpRequest,
  type AuthHttpResponse,
  type AuthStatusRouteOptions,
  type AuthenticationResult,
  type HttpErrorRow,
  type HttpProblemCode,
} from './http-protocol.js';
export { AUTH_ROUTES, TOKEN_GRANTS, type AuthRouteMethod } from './http-routes.js';

/** The largest `maxBodyBytes` accepted: auth-kit's requests are small. */
const MAX_BODY_LIMIT = 1024 * 1024;

/**
 * Every method the adapters route to the handler, so an unsupported one gets 405, not 404.
 *
 * @example
 * ```ts
 * router.all(path, (req, res, next) => (ROUTED_METHODS.includes(req.method) ? handle(req, res) : next()));
 * ```
 */
export const ROUTED_METHODS: readonly string[] = Object.freeze(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The framework-free handler made by {@link createAuthHandler}.
 *
 * @example
 * ```ts
 * const handler: AuthHandler = createAuthHandler(auth);
 * for (const path of handler.paths) router.all(path, …);
 * ```
 */
export interface AuthHandler {
  /**
   * The paths it answers, relative to the mount point (`/register`, `/token`, `/me`, …, and the
   * status paths when mounted). `:id` in `/sessions/:id` is a path parameter in the syntax of
   * Express, Hono and Fastify alike.
   */
  readonly paths: readonly string[];
  /** The methods adapters should route to it for each path (see {@link ROUTED_METHODS}). */
  readonly methods: readonly string[];
  /** The body size limit in bytes. */
  readonly maxBodyBytes: number;
  /** Answers one request. Never rejects: every failure is a response (500 carries `error`). */
  handle(request: AuthHttpRequest): Promise<AuthHttpResponse>;
}

/**
 * The context of one request. A class rather than an object literal: a literal with a getter is
 * built on V8's slow path, and on `GET /me` that alone cost more than a third of the handler's
 * time and pushed every request's garbage into the old generation.
 */
class RouteContext implements AuthRouteContext {
  readonly params: AuthRouteContext['params'];
  #client: AuthRouteContext['client'] | undefined;

  constructor(
    readonly auth: Auth,
    readonly request: AuthHttpRequest,
    maxBodyBytes: number,
    readonly routeParams: Readonly<Record<string, string | undefined>>,
  ) {
    // An own arrow property: routes destructure `{ params }` and call it unbound.
    this.params = (accepts) => readParams(request, accepts, maxBodyBytes);
  }

  /** Worked out on first use: `GET /me`, the hot path, never needs it. */
  get client(): AuthRouteContext['client'] {
    return (this.#client ??= clientContextOf(this.auth, this.request));
  }
}

/** A table entry with path parameters, compiled for handlers called with a concrete path. */
interface PatternRoute {
  readonly key: string;
  readonly segments: readonly string[];
}

function patternRoutes(table: AuthRouteTable): PatternRoute[] {
  return Object.keys(table)
    .filter((key) => key.includes('/:'))
    .map((key) => ({ key, segments: key.split('/') }));
}

/** Finds the table entry of a request path: the exact key (what adapters pass), else a pattern. */
function findRoute(
  table: AuthRouteTable,
  patterns: readonly PatternRoute[],
  request: AuthHttpRequest,
): { key: string; params: Readonly<Record<string, string | undefined>> } | undefined {
  if (Object.hasOwn(table, request.path)) return { key: request.path, params: request.params ?? {} };
  const parts = request.path.split('/');
  for (const { key, segments } of patterns) {
    if (segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let match = true;
    for (let i = 0; i < segments.length && match; i++) {
      if (segments[i].startsWith(':')) {
        if (parts[i] === '') match = false;
        else {
          try {
            params[segments[i].slice(1)] = decodeURIComponent(parts[i]);
          } catch {
            match = false;
          }
        }
      } else match = segments[i] === parts[i];
    }
    if (match) return { key, params };
  }
  return undefined;
}

/**
 * Creates the HTTP handler over an auth instance. Options are validated now (a bad
 * `maxBodyBytes`, or a `status` option without `authorize`, is a `configuration_error` at
 * startup, not at the first request).
 *
 * @example
 * ```ts
 * const handler = createAuthHandler(auth, { maxBodyBytes: 16 * 1024 });
 * const res = await handler.handle({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${token}` } });
 * // res.status === 200, JSON.parse(res.body).email === 'ada@example.com'
 * ```
 */
export function createAuthHandler(auth: Auth, options: AuthHttpOptions = {}): AuthHandler {
  if (!auth || typeof auth.authenticate !== 'function' || typeof auth.login !== 'function') {
    throw new AuthKitError('configuration_error', 'The HTTP routes need an auth instance from createAuth()');
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > MAX_BODY_LIMIT) {
    throw new AuthKitError('configuration_error', `maxBodyBytes must be a whole number from 1 to ${MAX_BODY_LIMIT}`);
  }
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    throw new AuthKitError('configuration_error', 'onError must be a function');
  }
  const routes: AuthRouteTable =
    options.status === undefined
      ? AUTH_ROUTES
      : Object.freeze({ ...AUTH_ROUTES, ...statusRoutes(options.status, Object.keys(AUTH_ROUTES)) });
  const patterns = patternRoutes(routes);

  async function handle(request: AuthHttpRequest): Promise<AuthHttpResponse> {
    try {
      const found = findRoute(routes, patterns, request);
      const route = found === undefined ? undefined : routes[found.key];
      if (!found || !route) throw new HttpProblem('not_found', 'Not found');
      const asked = request.method.toUpperCase();
      const method = (asked === 'HEAD' ? 'GET' : asked) as AuthRouteMethod;
      const run = Object.hasOwn(route, method) ? route[method] : undefined;
      if (!run) {
        const allowed = Object.keys(route).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
        throw new HttpProblem('method_not_allowed', `Method not allowed; use ${allowed.join(' or ')}`, {
          allow: allowed.join(', '),
        });
      }
      refuseQueryCredentials(request.query);
      return await run(new RouteContext(auth, request, maxBodyBytes, found.params));
    } catch (err) {
      return errorResponse(err);
    }
  }

  return Object.freeze({
    paths: Object.freeze(Object.keys(routes)),
    methods: ROUTED_METHODS,
    maxBodyBytes,
    handle,
  });
}
