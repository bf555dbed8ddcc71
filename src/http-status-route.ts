/**
 * The opt-in status route of the HTTP protocol: `GET <path>` (JSON) and `GET <path>.html` (the
 * dashboard page), behind the app's `authorize`. Off unless `authRoutes(auth, { status })` asks.
 */
import { AuthKitError } from './errors.js';
import { type AuthStatusRouteOptions, HttpProblem, htmlResponse, jsonResponse } from './http-protocol.js';
import type { AuthRouteContext, AuthRouteTable } from './http-route-kit.js';
import { getAuthStatus } from './status.js';
import { renderAuthDashboard } from './status-card.js';

/** Static segments only: no `:param`, `*`, braces or other pattern syntax of any framework. */
const STATUS_PATH = /^(\/[A-Za-z0-9._~-]+)+$/;

function invalid(message: string): AuthKitError {
  return new AuthKitError('configuration_error', `authRoutes status option: ${message}`);
}

/**
 * Validates the `status` option and returns its two routes; throws `configuration_error` at mount
 * time for a missing `authorize`, a bad path, or a path another route already uses.
 *
 * @example
 * ```ts
 * const routes = statusRoutes({ path: '/status', authorize: () => true }, ['/register', '/token']);
 * Object.keys(routes); // ['/status', '/status.html']
 * ```
 */
export function statusRoutes(option: AuthStatusRouteOptions, takenPaths: readonly string[]): AuthRouteTable {
  if (option === null || typeof option !== 'object') throw invalid('must be an object { path, authorize }');
  const { path, authorize } = option;
  if (typeof authorize !== 'function') {
    throw invalid('`authorize` (a function of the request returning true to allow) is required: the status reveals user counts');
  }
  if (typeof path !== 'string' || !STATUS_PATH.test(path) || path.split('/').some((s) => s === '.' || s === '..')) {
    throw invalid('`path` must be a path such as "/status" (letters, digits, "-", "_", ".", "~" and "/")');
  }
  const htmlPath = `${path}.html`;
  for (const p of [path, htmlPath]) {
    if (takenPaths.includes(p)) throw invalid(`the path "${p}" is already an auth-kit route`);
  }

  async function allowed({ request, client }: AuthRouteContext): Promise<void> {
    const verdict = await authorize(request, { clientAddress: client.clientAddress });
    if (verdict !== true) throw new HttpProblem('forbidden', 'Not allowed');
  }

  return Object.freeze({
    [path]: {
      async GET(context: AuthRouteContext) {
        await allowed(context);
        const status = await getAuthStatus(context.auth);
        // Load balancers and uptime checks read the status code: unhealthy → 503.
        return jsonResponse(status.status === 'unhealthy' ? 503 : 200, status);
      },
    },
    [htmlPath]: {
      async GET(context: AuthRouteContext) {
        await allowed(context);
        return htmlResponse(200, renderAuthDashboard(await getAuthStatus(context.auth)));
      },
    },
  });
}
