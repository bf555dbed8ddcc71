/**
 * Conformance of the session, password-lifecycle and status endpoints: ONE list of HTTP cases run
 * over real sockets on 127.0.0.1 against every adapter of test/support/adapters.ts (Express, Hono,
 * Fastify), each app on a SQLite in-memory database with a hand-moved clock; the `core` cases run
 * again on every dialect of the dialect loop (SQLite file and PostgreSQL included).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuthKitError, createAuth, createAuthHandler, migrate, openDatabase } from 'auth-kit';
import * as expressAdapter from 'auth-kit/express';
import * as fastifyAdapter from 'auth-kit/fastify';
import * as honoAdapter from 'auth-kit/hono';
import { ADAPTERS, type AdapterCase } from './support/adapters.js';
import {
  CLOCK_START,
  type Case,
  type World,
  type WorldOptions,
  comparable,
  expectChallenge,
  expectError,
  expectJsonHeaders,
  getMe,
  makeWorld,
  postForm,
  postJson,
  registerUser,
  runConformance,
} from './support/conformance.js';
import { type TestDatabase, openSqlite } from './support/databases.js';
import { GOOD_PASSWORD, newSecret } from './support/helpers.js';
import { type RawResponse, request } from './support/http-client.js';

const NEW_PASSWORD = 'saffron-harbour-58-lattice';
const TOKEN_KEYS = ['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'token_type'];
const ACCESS_KEYS = ['access_token', 'expires_in', 'token_type'];
const SESSION_KEYS = ['clientAddress', 'createdAt', 'current', 'expiresAt', 'id', 'lastUsedAt', 'userAgent'];
const INVALID_REFRESH = '{"error":"invalid_grant","error_description":"The refresh token is invalid, expired or revoked"}';
const INVALID_RESET = '{"error":"invalid_grant","error_description":"The password reset token is invalid, expired or already used"}';
const DAY_MS = 24 * 3600 * 1000;

interface Tokens {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly refresh_expires_in: number;
  readonly expires_in: number;
  readonly token_type: string;
}

async function login(w: World, email: string, headers: Record<string, string> = {}, password = GOOD_PASSWORD): Promise<Tokens> {
  const res = await postForm(w, '/auth/token', { grant_type: 'password', username: email, password }, headers);
  expect(res.status, res.body).toBe(200);
  expect(Object.keys(res.json()).sort()).toEqual(TOKEN_KEYS);
  return res.json();
}

function refresh(w: World, refreshToken: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return postForm(w, '/auth/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, headers);
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

function listSessions(w: World, accessToken: string): Promise<RawResponse> {
  return request(w.url('/auth/sessions'), { headers: bearer(accessToken) });
}

function deleteSession(w: World, accessToken: string | undefined, id: string): Promise<RawResponse> {
  return request(w.url(`/auth/sessions/${encodeURIComponent(id)}`), {
    method: 'DELETE',
    headers: accessToken === undefined ? {} : bearer(accessToken),
  });
}

/** `204 No Content`: no body, no content type, never cached. */
function expectNoContent(res: RawResponse): void {
  expect(res.status, res.body).toBe(204);
  expect(res.body).toBe('');
  expect(res.headers['content-type']).toBeUndefined();
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers.pragma).toBe('no-cache');
}

function expectInvalidGrant(res: RawResponse, body = INVALID_REFRESH): void {
  expectError(res, 400, 'invalid_grant');
  expect(res.body).toBe(body);
}

/** A second app of the same adapter on the same database, with other options; closed after `fn`. */
async function withWorld(w: World, adapter: AdapterCase, options: WorldOptions, fn: (other: World) => Promise<void>): Promise<void> {
  const other = await makeWorld(adapter, w.db, { clock: w.clock, ...options });
  try {
    await fn(other);
    expect(other.errors).toEqual([]);
  } finally {
    await other.app.close();
  }
}

function adapterOf(w: World): AdapterCase {
  return ADAPTERS.find((a) => a.name === w.adapter)!;
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

const CASES: readonly Case[] = [
  {
    name: 'refresh grant: new access + refresh token (no-store); the old refresh token is spent; the lifetime is absolute',
    core: true,
    async run(w) {
      const { id, email } = await registerUser(w);
      const first = await login(w, email);
      const firstClaims = await w.auth.tokens.verifyAccessToken(first.access_token);
      w.clock.advance(3600 * 1000);
      try {
        const res = await refresh(w, first.refresh_token);
        expect(res.status, res.body).toBe(200);
        expectJsonHeaders(res);
        const next = res.json();
        expect(Object.keys(next).sort()).toEqual(TOKEN_KEYS);
        expect(next.token_type).toBe('bearer');
        expect(next.refresh_token).not.toBe(first.refresh_token);
        expect(next.access_token).not.toBe(first.access_token);
        // Rotation does not extend the session: an hour later, an hour less.
        expect(next.refresh_expires_in).toBe(first.refresh_expires_in - 3600);
        const claims = await w.auth.tokens.verifyAccessToken(next.access_token);
        expect(claims.sub).toBe(String(id));
        expect(claims.sid).toBe(firstClaims.sid); // the same session
        expect((await getMe(w, `Bearer ${next.access_token}`)).status).toBe(200);
        // A JSON body works too, and the chain goes on.
        const third = await postJson(w, '/auth/token', { grant_type: 'refresh_token', refresh_token: next.refresh_token });
        expect(third.status, third.body).toBe(200);
        expect(Object.keys(third.json()).sort()).toEqual(TOKEN_KEYS);
      } finally {
        w.clock.set(CLOCK_START);
      }
    },
  },
  {
    name: 'refresh grant: a spent token is 400 invalid_grant and kills the whole family (reuse detection, S17)',
    core: true,
    async run(w) {
      const { email } = await registerUser(w);
      const first = await login(w, email);
      const other = await login(w, email); // another session of the same user: untouched
      const second = (await refresh(w, first.refresh_token)).json() as Tokens;
      expect(second.refresh_token).toBeDefined();
      expectInvalidGrant(await refresh(w, first.refresh_token)); // reuse
      expectInvalidGrant(await refresh(w, second.refresh_token)); // the newest member died with it
      expectInvalidGrant(await refresh(w, first.refresh_token)); // and stays dead
      const sessions = (await listSessions(w, other.access_token)).json();
      expect(sessions).toHaveLength(1);
      expect(sessions[0].current).toBe(true);
      expect((await refresh(w, other.refresh_token)).status).toBe(200);
    },
  },
  {
    name: 'refresh grant: unknown, garbage, revoked and expired tokens answer byte-identically; missing is 400, non-string 422',
    async run(w) {
      const { email } = await registerUser(w);
      const live = await login(w, email);
      const loggedOut = await login(w, email);
      expectNoContent(await postForm(w, '/auth/logout', { refresh_token: loggedOut.refresh_token }));
      const failures = [
        await refresh(w, 'A'.repeat(43)),
        await refresh(w, 'not a token at all'),
        await refresh(w, loggedOut.refresh_token),
      ];
      w.clock.advance(14 * DAY_MS);
      try {
        failures.push(await refresh(w, live.refresh_token)); // past its absolute lifetime
      } finally {
        w.clock.set(CLOCK_START);
      }
      for (const res of failures) {
        expectInvalidGrant(res);
        expect(comparable(res)).toEqual(comparable(failures[0]));
      }
      for (const res of [
        await postForm(w, '/auth/token', { grant_type: 'refresh_token' }),
        await postForm(w, '/auth/token', { grant_type: 'refresh_token', refresh_token: '' }),
        await postJson(w, '/auth/token', { grant_type: 'refresh_token', refresh_token: null }),
      ]) {
        expectError(res, 400, 'invalid_request');
      }
      expectError(await postJson(w, '/auth/token', { grant_type: 'refresh_token', refresh_token: 42 }), 422, 'invalid_request', ['issues']);
      expectError(await postForm(w, '/auth/token', { grant_type: 'refresh_token', refresh_token: ['a', 'b'] }), 422, 'invalid_request', ['issues']);
      // In the query string: refused before anything else.
      const inQuery = await request(w.url(`/auth/token?refresh_token=${live.refresh_token}`), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token',
      });
      expectError(inQuery, 400, 'invalid_request');
      expect(inQuery.body).not.toContain(live.refresh_token);
    },
  },
  {
    name: 'POST /logout: the same 204 for a valid, spent, unknown or garbage token; the valid one ends its session',
    core: true,
    async run(w) {
      const { email } = await registerUser(w);
      const session = await login(w, email);
      const spent = await login(w, email);
      expect((await refresh(w, spent.refresh_token)).status).toBe(200);
      const responses = [
        await postForm(w, '/auth/logout', { refresh_token: session.refresh_token }),
        await postJson(w, '/auth/logout', { refresh_token: session.refresh_token }), // again: already ended
        await postForm(w, '/auth/logout', { refresh_token: 'B'.repeat(43) }),
        await postJson(w, '/auth/logout', { refresh_token: 'garbage' }),
      ];
      for (const res of responses) {
        expectNoContent(res);
        expect(comparable(res)).toEqual(comparable(responses[0]));
      }
      expectInvalidGrant(await refresh(w, session.refresh_token));
      // A logout needs a token to look at: none at all is a malformed request, not an answer about a token.
      expectError(await postJson(w, '/auth/logout', {}), 400, 'invalid_request');
      expectError(await postJson(w, '/auth/logout', { refresh_token: 7 }), 422, 'invalid_request', ['issues']);
    },
  },
  {
    name: 'GET /sessions: the caller’s active sessions with `current`, the socket address and the user agent; a forged X-Forwarded-For changes nothing',
    core: true,
    async run(w) {
      const { email } = await registerUser(w);
      const stranger = await registerUser(w, 'stranger');
      await login(w, stranger.email);
      const a = await login(w, email, { 'user-agent': 'conformance-agent/1.0 (A)', 'x-forwarded-for': '203.0.113.66' });
      w.clock.advance(60 * 1000);
      try {
        const b = await login(w, email, { 'user-agent': 'conformance-agent/1.0 (B)' });
        const res = await listSessions(w, a.access_token);
        expect(res.status, res.body).toBe(200);
        expectJsonHeaders(res);
        const sessions = res.json();
        expect(sessions).toHaveLength(2); // the stranger's session is not listed
        for (const s of sessions) {
          expect(Object.keys(s).sort()).toEqual(SESSION_KEYS);
          expect(s.clientAddress).toBe('127.0.0.1');
          expect(s.lastUsedAt).toBeNull();
          expect(s.expiresAt).toBe(new Date(new Date(s.createdAt).getTime() + 14 * DAY_MS).toISOString());
        }
        // Newest first; `current` marks the session of the token used to ask.
        expect(sessions.map((s: { userAgent: string }) => s.userAgent)).toEqual(['conformance-agent/1.0 (B)', 'conformance-agent/1.0 (A)']);
        expect(sessions.map((s: { current: boolean }) => s.current)).toEqual([false, true]);
        expect(sessions[1].createdAt).toBe(CLOCK_START);
        expect(sessions[1].id).toBe((await w.auth.tokens.verifyAccessToken(a.access_token)).sid);
        const fromB = (await listSessions(w, b.access_token)).json();
        expect(fromB.map((s: { current: boolean }) => s.current)).toEqual([true, false]);

        // A refresh keeps the session id, updates the user agent and `lastUsedAt`.
        w.clock.advance(60 * 1000);
        const rotated = (await refresh(w, a.refresh_token, { 'user-agent': 'conformance-agent/2.0 (A)' })).json() as Tokens;
        const after = (await listSessions(w, rotated.access_token)).json();
        const current = after.find((s: { current: boolean }) => s.current);
        expect(current.id).toBe(sessions[1].id);
        expect(current.userAgent).toBe('conformance-agent/2.0 (A)');
        expect(current.lastUsedAt).toBe(new Date(new Date(CLOCK_START).getTime() + 2 * 60 * 1000).toISOString());
      } finally {
        w.clock.set(CLOCK_START);
      }
      // No bearer token: the same 401 as GET /me.
      const anonymous = await request(w.url('/auth/sessions'));
      expectError(anonymous, 401, 'unauthorized');
      expect(anonymous.headers['www-authenticate']).toBe('Bearer');
      const bad = await listSessions(w, 'abc.def.ghi');
      expectError(bad, 401, 'invalid_token');
      expectChallenge(bad, 'invalid_token');
    },
  },
  {
    name: 'client address: X-Forwarded-For is believed only from a trusted proxy (trustedProxies: ["127.0.0.1"])',
    async run(w) {
      const { email } = await registerUser(w);
      await withWorld(w, adapterOf(w), { settings: { trustedProxies: ['127.0.0.1'] } }, async (proxied) => {
        const forwarded = await login(proxied, email, { 'x-forwarded-for': '198.51.100.23, 203.0.113.7', 'user-agent': 'behind-proxy/1' });
        const sessions = (await listSessions(proxied, forwarded.access_token)).json();
        const current = sessions.find((s: { current: boolean }) => s.current);
        // The right-most entry the trusted peer added is the client.
        expect(current.clientAddress).toBe('203.0.113.7');
        const direct = await login(proxied, email);
        const mine = (await listSessions(proxied, direct.access_token)).json().find((s: { current: boolean }) => s.current);
        expect(mine.clientAddress).toBe('127.0.0.1');
        // The refresh grant goes through the same resolution.
        const rotated = (await refresh(proxied, direct.refresh_token, { 'x-forwarded-for': '192.0.2.44' })).json() as Tokens;
        const again = (await listSessions(proxied, rotated.access_token)).json().find((s: { current: boolean }) => s.current);
        expect(again.clientAddress).toBe('192.0.2.44');
      });
      // The same header on the app without trusted proxies: ignored (the other case checks the listing).
      const plain = await login(w, email, { 'x-forwarded-for': '203.0.113.7' });
      const current = (await listSessions(w, plain.access_token)).json().find((s: { current: boolean }) => s.current);
      expect(current.clientAddress).toBe('127.0.0.1');
    },
  },
  {
    name: 'the client context reaches the core: register, login, refresh and logout events carry the socket address and the user agent',
    async run(w) {
      const email = w.email('context');
      const client = { 'user-agent': 'context-check/1.0', 'x-forwarded-for': '203.0.113.99' }; // the header is not believed
      const registered = await postJson(w, '/auth/register', { email, password: GOOD_PASSWORD }, client);
      expect(registered.status, registered.body).toBe(201);
      expect((await postForm(w, '/auth/token', { username: email, password: 'wrong-password-123' }, client)).status).toBe(401);
      const tokens = await login(w, email, client);
      const rotated = (await refresh(w, tokens.refresh_token, client)).json() as Tokens;
      expectNoContent(await postForm(w, '/auth/logout', { refresh_token: rotated.refresh_token }, client));
      const { events } = await w.auth.events.list({ userId: registered.json().id, limit: 100 });
      const types = events.map((e) => e.type).sort();
      expect(types).toEqual(['login_failed', 'login_succeeded', 'logout', 'token_refreshed', 'user_registered']);
      for (const event of events) {
        expect({ type: event.type, clientAddress: event.clientAddress, userAgent: event.userAgent }).toEqual({
          type: event.type,
          clientAddress: '127.0.0.1',
          userAgent: 'context-check/1.0',
        });
      }
    },
  },
  {
    name: 'DELETE /sessions/:id: own session → 204 (and it is over); another user’s, unknown or already ended → the same 404',
    core: true,
    async run(w) {
      const { email } = await registerUser(w);
      const other = await registerUser(w, 'other');
      const mine = await login(w, email);
      const second = await login(w, email);
      const theirs = await login(w, other.email);
      const secondId = (await w.auth.tokens.verifyAccessToken(second.access_token)).sid!;
      const theirId = (await w.auth.tokens.verifyAccessToken(theirs.access_token)).sid!;

      expectNoContent(await deleteSession(w, mine.access_token, secondId));
      expectInvalidGrant(await refresh(w, second.refresh_token));
      expect((await listSessions(w, mine.access_token)).json()).toHaveLength(1);

      const notFound = [
        await deleteSession(w, mine.access_token, theirId), // another user's: 404, not 403
        await deleteSession(w, mine.access_token, secondId), // already ended
        await deleteSession(w, mine.access_token, 'no-such-session-id'),
        await deleteSession(w, mine.access_token, 'x'.repeat(90)), // longer than any id (under Fastify's 100-character parameter limit)
      ];
      for (const res of notFound) {
        expectError(res, 404, 'not_found');
        expect(comparable(res)).toEqual(comparable(notFound[0]));
      }
      // The other user's session is untouched.
      expect((await refresh(w, theirs.refresh_token)).status).toBe(200);

      const anonymous = await deleteSession(w, undefined, secondId);
      expectError(anonymous, 401, 'unauthorized');
      const get = await request(w.url(`/auth/sessions/${secondId}`));
      expectError(get, 405, 'invalid_request');
      expect(get.headers.allow).toBe('DELETE');
      const del = await request(w.url('/auth/sessions'), { method: 'DELETE', headers: bearer(mine.access_token) });
      expectError(del, 405, 'invalid_request');
      expect(del.headers.allow).toBe('GET, HEAD');
    },
  },
  {
    name: 'POST /logout-all → 204; the caller’s access token is 401 right after and every refresh token invalid_grant',
    core: true,
    async run(w) {
      const { email } = await registerUser(w);
      const other = await registerUser(w, 'bystander');
      const a = await login(w, email);
      const b = await login(w, email);
      const theirs = await login(w, other.email);
      expectNoContent(await request(w.url('/auth/logout-all'), { method: 'POST', headers: bearer(a.access_token) }));
      for (const token of [a.access_token, b.access_token]) {
        const res = await getMe(w, `Bearer ${token}`);
        expectError(res, 401, 'invalid_token');
        expectChallenge(res, 'invalid_token');
      }
      expectError(await listSessions(w, a.access_token), 401, 'invalid_token');
      expectInvalidGrant(await refresh(w, a.refresh_token));
      expectInvalidGrant(await refresh(w, b.refresh_token));
      // Another user is not affected; a new login works and is the only session.
      expect((await getMe(w, `Bearer ${theirs.access_token}`)).status).toBe(200);
      const fresh = await login(w, email);
      const sessions = (await listSessions(w, fresh.access_token)).json();
      expect(sessions.map((s: { current: boolean }) => s.current)).toEqual([true]);
      expectError(await request(w.url('/auth/logout-all'), { method: 'POST' }), 401, 'unauthorized');
    },
  },
  {
    name: 'POST /password → 200 new access token; the old one is 401, other sessions are over, the caller’s session goes on',
    core: true,
    async run(w) {
      const { email } = await registerUser(w);
      const caller = await login(w, email);
      const elsewhere = await login(w, email);
      const res = await postJson(w, '/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, bearer(caller.access_token));
      expect(res.status, res.body).toBe(200);
      expectJsonHeaders(res);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(ACCESS_KEYS);
      expect(body.token_type).toBe('bearer');
      expect(body.expires_in).toBe(1800);
      expectError(await getMe(w, `Bearer ${caller.access_token}`), 401, 'invalid_token');
      expectError(await getMe(w, `Bearer ${elsewhere.access_token}`), 401, 'invalid_token');
      expect((await getMe(w, `Bearer ${body.access_token}`)).status).toBe(200);
      // The new token belongs to the caller's session, which is kept; the other one is over.
      const sessions = (await listSessions(w, body.access_token)).json();
      expect(sessions.map((s: { current: boolean }) => s.current)).toEqual([true]);
      expectInvalidGrant(await refresh(w, elsewhere.refresh_token));
      expect((await refresh(w, caller.refresh_token)).status).toBe(200);
      // The new password logs in, the old one no longer does.
      await login(w, email, {}, NEW_PASSWORD);
      expect((await postForm(w, '/auth/token', { username: email, password: GOOD_PASSWORD })).status).toBe(401);
    },
  },
  {
    name: 'POST /password: wrong current password 400 invalid_current_password, weak new one 422, missing field 400, no token 401',
    async run(w) {
      const { email } = await registerUser(w);
      const caller = await login(w, email);
      const auth = bearer(caller.access_token);
      const wrong = await postJson(w, '/auth/password', { currentPassword: `${GOOD_PASSWORD}x`, newPassword: NEW_PASSWORD }, auth);
      expectError(wrong, 400, 'invalid_current_password');
      const weak = await postJson(w, '/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: 'password123' }, auth);
      expect(expectError(weak, 422, 'invalid_request', ['issues']).issues[0].path).toBe('newPassword');
      expect(weak.body).not.toContain('password123');
      expectError(await postJson(w, '/auth/password', { newPassword: NEW_PASSWORD }, auth), 400, 'invalid_request');
      expectError(await postJson(w, '/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: 12345678 }, auth), 422, 'invalid_request', ['issues']);
      expectError(await postJson(w, '/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }), 401, 'unauthorized');
      // Nothing changed: the token and the password still work.
      expect((await getMe(w, `Bearer ${caller.access_token}`)).status).toBe(200);
      await login(w, email);
      // A form body works as well.
      const byForm = await postForm(w, '/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, auth);
      expect(byForm.status, byForm.body).toBe(200);
    },
  },
  {
    name: 'POST /password: wrong current passwords count towards the lockout (429 + Retry-After), recorded with the client context',
    async run(w) {
      const { id, email } = await registerUser(w);
      const caller = await login(w, email);
      w.clock.advance(1000); // failures count from after the login's success, never in the same millisecond
      try {
        const headers = { ...bearer(caller.access_token), 'user-agent': 'password-guesser/1' };
        const guess = { currentPassword: `${GOOD_PASSWORD}x`, newPassword: NEW_PASSWORD };
        for (let i = 0; i < 5; i += 1) {
          expectError(await postJson(w, '/auth/password', guess, headers), 400, 'invalid_current_password');
        }
        const refused = await postJson(w, '/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, headers);
        expectError(refused, 429, 'too_many_attempts');
        expect(refused.headers['retry-after']).toBe('1');
        const failed = (await w.auth.events.list({ type: 'login_failed', userId: id })).events;
        expect(failed).toHaveLength(5);
        expect(failed[0]).toMatchObject({ email, clientAddress: '127.0.0.1', userAgent: 'password-guesser/1' });
        // The lockout is the account's: the password grant is refused as well.
        expectError(await postForm(w, '/auth/token', { username: email, password: GOOD_PASSWORD }), 429, 'too_many_attempts');
      } finally {
        w.clock.set(CLOCK_START);
      }
    },
  },
  {
    name: 'POST /password-reset/request: the same 202 for an existing and an unknown email (and a failing mailer); malformed 422, missing 400',
    async run(w) {
      const { email, id } = await registerUser(w);
      const failing = await registerUser(w, 'mailfail');
      w.failingMail.add(failing.email);
      const before = w.outbox.length;
      const nobody = w.email('nobody');
      const responses = [
        await postJson(w, '/auth/password-reset/request', { email }),
        await postJson(w, '/auth/password-reset/request', { email: nobody }),
        await postForm(w, '/auth/password-reset/request', { email: email.toUpperCase() }),
        await postJson(w, '/auth/password-reset/request', { email: failing.email }),
      ];
      for (const res of responses) {
        expect(res.status, res.body).toBe(202);
        expectJsonHeaders(res);
        expect(res.body).toBe('{}');
        expect(comparable(res)).toEqual(comparable(responses[0]));
      }
      // Two mails for the real account (any case), none for the unknown email.
      const sent = w.outbox.slice(before);
      expect(sent.map((m) => m.user.id)).toEqual([id, id]);
      // Each request recorded with the socket's address; the unknown email without a user id.
      const requested = (await w.auth.events.list({ type: 'password_reset_requested', limit: 100 })).events;
      const mine = requested.filter((e) => e.email === email || e.email === nobody);
      expect(mine.map((e) => [e.userId, e.email, e.clientAddress]).sort()).toEqual(
        [[id, email, '127.0.0.1'], [id, email, '127.0.0.1'], [null, nobody, '127.0.0.1']].sort(),
      );
      // The mailer's failure went to the logger, not to the caller.
      expect(w.errors.splice(0).map((e) => (e as Error).message)).toEqual(['the mail relay refused the message']);
      const malformed = await postJson(w, '/auth/password-reset/request', { email: 'not-an-email' });
      expect(expectError(malformed, 422, 'invalid_request', ['issues']).issues[0].path).toBe('email');
      expectError(await postJson(w, '/auth/password-reset/request', { email: ['a@example.com'] }), 422, 'invalid_request', ['issues']);
      expectError(await postJson(w, '/auth/password-reset/request', {}), 400, 'invalid_request');
    },
  },
  {
    name: 'POST /password-reset/confirm: 204 sets the password and ends every session; used, expired and unknown tokens are 400 invalid_grant; weak 422',
    core: true,
    async run(w) {
      const { email } = await registerUser(w);
      const session = await login(w, email);
      expect((await postJson(w, '/auth/password-reset/request', { email })).status).toBe(202);
      const { token } = w.outbox.at(-1)!;
      // A weak password is refused and the token stays usable.
      const weak = await postJson(w, '/auth/password-reset/confirm', { token, newPassword: 'short' });
      expect(expectError(weak, 422, 'invalid_request', ['issues']).issues[0].path).toBe('newPassword');
      expectNoContent(await postJson(w, '/auth/password-reset/confirm', { token, newPassword: NEW_PASSWORD }));
      expectError(await getMe(w, `Bearer ${session.access_token}`), 401, 'invalid_token');
      expectInvalidGrant(await refresh(w, session.refresh_token));
      await login(w, email, {}, NEW_PASSWORD);
      // Used.
      expectInvalidGrant(await postJson(w, '/auth/password-reset/confirm', { token, newPassword: GOOD_PASSWORD }), INVALID_RESET);
      // Unknown (well-formed and not).
      expectInvalidGrant(await postJson(w, '/auth/password-reset/confirm', { token: 'C'.repeat(43), newPassword: GOOD_PASSWORD }), INVALID_RESET);
      expectInvalidGrant(await postForm(w, '/auth/password-reset/confirm', { token: 'nope', newPassword: GOOD_PASSWORD }), INVALID_RESET);
      // Expired: an hour and a minute later, on the injected clock.
      expect((await postJson(w, '/auth/password-reset/request', { email })).status).toBe(202);
      const late = w.outbox.at(-1)!.token;
      w.clock.advance(61 * 60 * 1000);
      try {
        expectInvalidGrant(await postJson(w, '/auth/password-reset/confirm', { token: late, newPassword: GOOD_PASSWORD }), INVALID_RESET);
      } finally {
        w.clock.set(CLOCK_START);
      }
      expectError(await postJson(w, '/auth/password-reset/confirm', { newPassword: GOOD_PASSWORD }), 400, 'invalid_request');
    },
  },
  {
    name: 'password reset routes without sendPasswordResetEmail: 404 not_found',
    async run(w) {
      const { email } = await registerUser(w);
      await withWorld(w, adapterOf(w), { passwordReset: false }, async (plain) => {
        for (const res of [
          await postJson(plain, '/auth/password-reset/request', { email }),
          await postJson(plain, '/auth/password-reset/request', { email: plain.email('nobody') }),
          await postJson(plain, '/auth/password-reset/confirm', { token: 'C'.repeat(43), newPassword: NEW_PASSWORD }),
        ]) {
          expect(expectError(res, 404, 'not_found').error_description).toBe('Password reset is not enabled');
        }
        // Everything else works.
        await login(plain, email);
      });
    },
  },
  {
    name: 'the status route is not mounted by default: the framework’s own 404',
    async run(w) {
      for (const path of ['/auth/status', '/auth/status.html']) {
        const res = await request(w.url(path));
        expect(res.status, `${path}: ${res.body}`).toBe(404);
        expect(res.body).not.toContain('not_found');
      }
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The loops
// ---------------------------------------------------------------------------------------------

runConformance('sessions conformance', CASES);

// ---------------------------------------------------------------------------------------------
// The status route (opt-in)
// ---------------------------------------------------------------------------------------------

const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const OPS_KEY = 'ops-key-for-the-conformance-suite';

for (const adapter of ADAPTERS) {
  describe(`status route [${adapter.name}]`, () => {
    let t: TestDatabase;
    let w: World;
    const seen: { clientAddress: string | null; method: string; path: string; key: unknown }[] = [];
    beforeAll(async () => {
      t = openSqlite('memory');
      w = await makeWorld(adapter, t, {
        http: {
          status: {
            path: '/status',
            // Async on purpose; reads the framework-neutral request.
            authorize: async (req, { clientAddress }) => {
              const headers = req.headers as Record<string, string | undefined> & { get?: (n: string) => string | null };
              const key = typeof headers.get === 'function' ? headers.get('x-ops-key') : headers['x-ops-key'];
              seen.push({ clientAddress, method: req.method, path: req.path, key });
              return key === OPS_KEY;
            },
          },
        },
      });
      await registerUser(w);
      await registerUser(w);
    });
    afterAll(async () => {
      await w?.app.close();
      await t?.cleanup();
    });
    afterEach(() => {
      expect(w.errors).toEqual([]);
    });

    it('403 forbidden when authorize says no, for the JSON and the page', async () => {
      for (const path of ['/auth/status', '/auth/status.html']) {
        for (const headers of [{}, { 'x-ops-key': 'wrong' }] as Record<string, string>[]) {
          const res = await request(w.url(path), { headers });
          expect(expectError(res, 403, 'forbidden').error_description).toBe('Not allowed');
          expect(res.body).not.toContain('totalUsers');
        }
      }
      expect(seen.at(-1)).toEqual({ clientAddress: '127.0.0.1', method: 'GET', path: '/status.html', key: 'wrong' });
    });

    it('GET <path> → the status as JSON when authorized', async () => {
      const res = await request(w.url('/auth/status'), { headers: { 'x-ops-key': OPS_KEY } });
      expect(res.status, res.body).toBe(200);
      expectJsonHeaders(res);
      const status = res.json();
      expect(status).toMatchObject({ name: 'auth', status: 'healthy', checkedAt: CLOCK_START });
      expect(status.metadata).toMatchObject({ totalUsers: 2, activeUsers: 2, tokenValidation: 'ok', database: 'sqlite', jwtAlgorithm: 'HS256' });
      expect(status.metadata.failedLoginsByHour).toHaveLength(24);
      expect(seen.at(-1)).toMatchObject({ path: '/status', clientAddress: '127.0.0.1' });
    });

    it('GET <path>.html → the dashboard page: text/html, the CSP, no-store', async () => {
      const res = await request(w.url('/auth/status.html'), { headers: { 'x-ops-key': OPS_KEY } });
      expect(res.status, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(CSP);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.body.startsWith('<!doctype html>')).toBe(true);
      expect(res.body).toContain('<svg');
      expect(res.body).not.toContain('<script');
      const head = await request(w.url('/auth/status.html'), { method: 'HEAD', headers: { 'x-ops-key': OPS_KEY } });
      expect(head.status).toBe(200);
      expect(head.body).toBe('');
      const post = await request(w.url('/auth/status'), { method: 'POST', headers: { 'x-ops-key': OPS_KEY } });
      expectError(post, 405, 'invalid_request');
      expect(post.headers.allow).toBe('GET, HEAD');
    });

    it('an authorize that throws is a 500, the error to the logger', async () => {
      const boom = new Error('the authorize hook failed');
      await withWorld(w, adapter, { http: { status: { path: '/health-of-auth', authorize: () => { throw boom; } } } }, async (other) => {
        const res = await request(other.url('/auth/health-of-auth'));
        expect(res.status).toBe(500);
        expect(res.body).toBe('{"error":"server_error"}');
        expect(other.errors.splice(0)).toEqual([boom]);
      });
    });

    it('a database that cannot be reached: 503 with status unhealthy (the page still renders, 200)', async () => {
      const unreachable = openDatabase(`sqlite:////nonexistent-${randomBytes(4).toString('hex')}/app.db`);
      const auth = createAuth({ db: unreachable, settings: { jwtSecretKey: newSecret() } });
      const app = await adapter.start(auth, { status: { path: '/status', authorize: () => true } });
      try {
        const res = await request(`${app.url}/auth/status`);
        expect(res.status, res.body).toBe(503);
        expect(res.json().status).toBe('unhealthy');
        const page = await request(`${app.url}/auth/status.html`);
        expect(page.status).toBe(200);
        expect(page.body).toContain('<!doctype html>');
      } finally {
        await app.close();
        await unreachable.destroy().catch(() => undefined);
      }
    });

    it('a status option without authorize (or with a bad path) throws when the routes are mounted', () => {
      const adapters = { express: expressAdapter, hono: honoAdapter, fastify: fastifyAdapter } as const;
      const { authRoutes, requireAuth } = adapters[adapter.name as keyof typeof adapters];
      const bad = [
        { path: '/status' },
        { path: '/status', authorize: true },
        { path: 'status', authorize: () => true },
        { path: '/sessions/:id', authorize: () => true },
        { path: '/me', authorize: () => true },
        { path: '/../x', authorize: () => true },
        { path: '', authorize: () => true },
        null,
      ];
      for (const status of bad) {
        let err: unknown;
        try {
          authRoutes(w.auth, { status: status as never });
        } catch (e) {
          err = e;
        }
        expect(err, JSON.stringify(status)).toBeInstanceOf(AuthKitError);
        expect((err as AuthKitError).code).toBe('configuration_error');
        expect(() => requireAuth(w.auth, { status: status as never })).toThrow(AuthKitError);
      }
      expect(() => createAuthHandler(w.auth, { status: { path: '/status' } as never })).toThrow(/authorize/);
    });
  });
}

describe('the route table through createAuthHandler (no framework)', () => {
  it('matches /sessions/:id from a concrete path, and lists the status paths only when mounted', async () => {
    const t = openSqlite('memory');
    try {
      await migrate(t.db);
      const auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret() } });
      await auth.register({ email: 'direct@example.com', password: GOOD_PASSWORD });
      const first = await auth.login({ username: 'direct@example.com', password: GOOD_PASSWORD });
      const handler = createAuthHandler(auth);
      expect(handler.paths).not.toContain('/status');
      expect(handler.paths).toEqual(expect.arrayContaining(['/logout', '/sessions', '/sessions/:id', '/logout-all', '/password']));
      const headers = { authorization: `Bearer ${first.accessToken}` };
      const missing = await handler.handle({ method: 'DELETE', path: '/sessions/unknown', headers });
      expect(missing.status).toBe(404);
      const ended = await handler.handle({ method: 'DELETE', path: `/sessions/${encodeURIComponent(first.sessionId)}`, headers });
      expect(ended.status).toBe(204);
      // The adapters' form: the pattern and the params.
      const second = await auth.login({ username: 'direct@example.com', password: GOOD_PASSWORD });
      const viaParams = await handler.handle({ method: 'DELETE', path: '/sessions/:id', params: { id: second.sessionId }, headers });
      expect(viaParams.status).toBe(204);
      expect((await handler.handle({ method: 'DELETE', path: '/sessions/a/b', headers })).status).toBe(404);
      const mounted = createAuthHandler(auth, { status: { path: '/ops/status', authorize: () => true } });
      expect(mounted.paths).toEqual([...handler.paths, '/ops/status', '/ops/status.html']);
    } finally {
      await t.cleanup();
    }
  });
});
