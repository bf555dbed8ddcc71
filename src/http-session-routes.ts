/**
 * The session and password-lifecycle endpoints of the HTTP protocol: logout, the caller's
 * sessions, logout everywhere, password change and password reset. Each is a thin call into the
 * core (`auth.logout`, `auth.listSessions`, …); statuses come from {@link HTTP_ERRORS}.
 */
import type { Auth } from './auth.js';
import { isAuthKitError } from './errors.js';
import { HttpProblem, jsonResponse, noContentResponse } from './http-protocol.js';
import { type AuthRouteTable, authenticateBearer, tokenResponse } from './http-route-kit.js';
import { type ActiveSession, requireString } from './sessions.js';

/** Body formats of these routes: JSON, or an HTML form's fields. */
const BODY: readonly ('json' | 'form')[] = ['json', 'form'];

/**
 * A session as JSON: ISO dates, `lastUsedAt` null before the first refresh.
 *
 * @example
 * ```ts
 * sessionJson(session); // { id, createdAt, lastUsedAt, expiresAt, clientAddress, userAgent, current }
 * ```
 */
export function sessionJson(session: ActiveSession): Record<string, unknown> {
  return {
    id: session.id,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt === null ? null : session.lastUsedAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    clientAddress: session.clientAddress,
    userAgent: session.userAgent,
    current: session.current,
  };
}

function requirePasswordReset(auth: Auth): void {
  if (!auth.passwordResetEnabled) {
    throw new HttpProblem('password_reset_disabled', 'Password reset is not enabled');
  }
}

/** The one answer of `POST /password-reset/request`, whatever the email. */
const RESET_REQUESTED = Object.freeze({});

/**
 * The session and password routes, merged into {@link AUTH_ROUTES}.
 *
 * | route | auth | success |
 * | --- | --- | --- |
 * | `POST /logout` `{ refresh_token }` | – | 204, valid token or not |
 * | `GET /sessions` | bearer | 200 `[{ id, createdAt, lastUsedAt, expiresAt, clientAddress, userAgent, current }]` |
 * | `DELETE /sessions/:id` | bearer | 204; 404 unless it is one of the caller's active sessions |
 * | `POST /logout-all` | bearer | 204 |
 * | `POST /password` `{ currentPassword, newPassword }` | bearer | 200 token response |
 * | `POST /password-reset/request` `{ email }` | – | 202 `{}`, whatever the email |
 * | `POST /password-reset/confirm` `{ token, newPassword }` | – | 204 |
 *
 * @example
 * ```ts
 * Object.keys(SESSION_ROUTES); // ['/logout', '/sessions', '/sessions/:id', '/logout-all', '/password', …]
 * ```
 */
export const SESSION_ROUTES: AuthRouteTable = Object.freeze({
  '/logout': {
    // RFC 7009 2.2 in spirit: the answer never tells whether the token was valid.
    async POST({ auth, params, client }) {
      const body = await params(BODY);
      await auth.logout(body.refresh_token as string, client);
      return noContentResponse();
    },
  },
  '/sessions': {
    async GET({ auth, request }) {
      const { user, claims } = await authenticateBearer(auth, request);
      const sessions = await auth.listSessions(user.id, { currentSessionId: claims.sid ?? null });
      return jsonResponse(200, sessions.map(sessionJson));
    },
  },
  '/sessions/:id': {
    async DELETE({ auth, request, routeParams }) {
      const { user } = await authenticateBearer(auth, request);
      const id = routeParams.id;
      // Unknown, ended and other users' sessions are answered alike (404, not 403).
      if (typeof id !== 'string' || !(await auth.revokeSession(user.id, id))) {
        throw new HttpProblem('session_not_found', 'No such active session');
      }
      return noContentResponse();
    },
  },
  '/logout-all': {
    async POST({ auth, request }) {
      const { user } = await authenticateBearer(auth, request);
      await auth.logoutAll(user.id);
      return noContentResponse();
    },
  },
  '/password': {
    async POST({ auth, request, params, client }) {
      const { user, claims } = await authenticateBearer(auth, request);
      const body = await params(BODY);
      const access = await auth.changePassword(
        user.id,
        { currentPassword: body.currentPassword as string, newPassword: body.newPassword as string },
        { ...client, currentSessionId: claims.sid ?? null },
      );
      // The caller's own access token was just invalidated: this one replaces it.
      return tokenResponse(access);
    },
  },
  '/password-reset/request': {
    async POST({ auth, params, client }) {
      requirePasswordReset(auth);
      const body = await params(BODY);
      const email = requireString(body.email, 'email');
      try {
        await auth.requestPasswordReset(email, client);
      } catch (err) {
        // A malformed email is the caller's problem, whatever the accounts: 422.
        if (isAuthKitError(err, 'validation_failed') || isAuthKitError(err, 'invalid_request')) throw err;
        if (isAuthKitError(err, 'configuration_error')) throw new HttpProblem('password_reset_disabled', 'Password reset is not enabled');
        // Anything else (the app's mailer failing) can only happen for a real account: answering
        // it would tell the caller the email exists. Same 202; the error goes to the logger.
        return { ...jsonResponse(202, RESET_REQUESTED), error: err };
      }
      return jsonResponse(202, RESET_REQUESTED);
    },
  },
  '/password-reset/confirm': {
    async POST({ auth, params }) {
      requirePasswordReset(auth);
      const body = await params(BODY);
      await auth.resetPassword(body.token as string, body.newPassword as string);
      return noContentResponse();
    },
  },
});
