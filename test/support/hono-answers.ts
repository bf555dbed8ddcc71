/**
 * Shared by the Hono response tests: apps with different middleware in front of auth-kit's routes
 * and `requireAuth`, and the checks every one of them must pass, over any way of sending a request
 * (real sockets through @hono/node-server, or `app.request()` with the runtime's own Response).
 */
import { every } from 'hono/combine';
import { Hono, type MiddlewareHandler } from 'hono';
import { afterAll, beforeAll, expect } from 'vitest';
import { createAuth, migrate, openDatabase, type Auth } from 'auth-kit';
import { authRoutes, requireAuth, type AuthEnv } from 'auth-kit/hono';
import { GOOD_PASSWORD, newSecret } from './helpers.js';

/** Sends one request to the app under test. */
export type Send = (path: string, init?: RequestInit) => Promise<Response>;

export interface HonoSetup {
  /** Registered on the app before the auth routes, or null for none. */
  readonly middleware: MiddlewareHandler | null;
  /** How `/private` is guarded: `requireAuth` alone, inside Hono's `every()`, or inside the app's own wrapper. */
  readonly guard: 'plain' | 'every' | 'wrapper';
  /** Headers every answer must carry besides auth-kit's own. */
  readonly expectExtra: Readonly<Record<string, string>>;
}

const requestId: MiddlewareHandler = async (c, next) => {
  c.header('X-Request-Id', 'req-1');
  await next();
};

export const HONO_SETUPS: Readonly<Record<string, HonoSetup>> = {
  'no middleware (the handler answers first)': { middleware: null, guard: 'plain', expectExtra: {} },
  'middleware that calls c.header() before next()': { middleware: requestId, guard: 'plain', expectExtra: { 'x-request-id': 'req-1' } },
  'middleware that sets a conflicting Cache-Control with c.header() before next()': {
    middleware: async (c, next) => {
      c.header('Cache-Control', 'public, max-age=600');
      c.header('X-Before', 'yes');
      await next();
    },
    guard: 'plain',
    expectExtra: { 'x-before': 'yes' },
  },
  'middleware that sets a conflicting Cache-Control on c.res before next()': {
    middleware: async (c, next) => {
      c.res.headers.set('Cache-Control', 'public, max-age=600');
      c.res.headers.set('X-Early', 'early');
      await next();
    },
    guard: 'plain',
    expectExtra: { 'x-early': 'early' },
  },
  'middleware that sets a header after next()': {
    middleware: async (c, next) => {
      await next();
      c.header('X-After', 'after');
    },
    guard: 'plain',
    expectExtra: { 'x-after': 'after' },
  },
  "requireAuth inside Hono's every() after a middleware that calls c.header()": {
    middleware: null,
    guard: 'every',
    expectExtra: {},
  },
  "requireAuth inside the app's own wrapper that calls c.header() first": {
    middleware: null,
    guard: 'wrapper',
    expectExtra: {},
  },
};

/** What the Hono answer tests share: auth-kit on SQLite in memory, Ada registered, her access token. */
export interface HonoFixture {
  readonly auth: Auth;
  readonly accessToken: string;
}

/**
 * Registers the fixture's set-up and tear-down in the calling `describe`; read its fields inside
 * tests (they are filled in by `beforeAll`).
 */
export function useHonoFixture(): HonoFixture {
  const db = openDatabase('sqlite:///:memory:');
  const fixture = {} as { auth: Auth; accessToken: string };
  beforeAll(async () => {
    await migrate(db);
    fixture.auth = createAuth({ db, settings: { jwtSecretKey: newSecret() } });
    await fixture.auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    ({ accessToken: fixture.accessToken } = await fixture.auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }));
  });
  afterAll(() => db.destroy());
  return fixture;
}

/** The app of one setup: `setup.middleware`, auth-kit at `/auth`, and `/private` behind `requireAuth`. */
export function honoApp(auth: Auth, setup: HonoSetup): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  if (setup.middleware) app.use(setup.middleware);
  app.route('/auth', authRoutes(auth));
  if (setup.guard === 'every') {
    app.use('/private', every(requestId, requireAuth(auth)));
  } else if (setup.guard === 'wrapper') {
    const guard = requireAuth(auth);
    app.use('/private', async (c, next) => {
      c.header('X-Request-Id', 'req-1');
      return guard(c, next);
    });
  } else {
    app.use('/private', requireAuth(auth));
  }
  app.get('/private', (c) => c.json({ email: c.get('user').email }));
  return app;
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

function expectHeaders(res: Response, what: string, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) expect(res.headers.get(name), `${what}: ${name}`).toBe(value);
}

/**
 * Every answer of the setup: /me (GET and HEAD), /token, a 401 from the routes, a 204, and
 * `/private` refusing and letting through. Each carries auth-kit's headers with auth-kit's values
 * and the middleware's own.
 */
export async function checkHonoAnswers(send: Send, setup: HonoSetup, accessToken: string, auth: Auth): Promise<void> {
  const extra = setup.expectExtra;
  const bearer = { authorization: `Bearer ${accessToken}` };

  const me = await send('/auth/me', { headers: bearer });
  expect(me.status).toBe(200);
  expectHeaders(me, 'GET /me', { ...JSON_TYPE, ...NO_STORE, ...extra });
  expect(((await me.json()) as { email: string }).email).toBe('ada@example.com');

  const head = await send('/auth/me', { method: 'HEAD', headers: bearer });
  expect(head.status).toBe(200);
  expectHeaders(head, 'HEAD /me', { ...NO_STORE, ...extra });
  expect(await head.text()).toBe('');

  const token = await send('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `username=ada%40example.com&password=${encodeURIComponent(GOOD_PASSWORD)}&grant_type=password`,
  });
  expect(token.status).toBe(200);
  expectHeaders(token, 'POST /token', { ...JSON_TYPE, ...NO_STORE, ...extra });
  const { access_token: fresh } = (await token.json()) as { access_token: string };
  expect((await auth.authenticate(fresh)).email).toBe('ada@example.com');

  const anonymous = await send('/auth/me');
  expect(anonymous.status).toBe(401);
  expectHeaders(anonymous, 'GET /me without a token', { 'www-authenticate': 'Bearer', ...NO_STORE, ...extra });

  const logout = await send('/auth/logout', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: 'not-a-real-token' }),
  });
  expect(logout.status).toBe(204);
  expect(await logout.text()).toBe('');
  expectHeaders(logout, 'POST /logout', { ...NO_STORE, ...extra });

  // requireAuth refusing: its challenge, no-store, the middleware's headers and the wrapper's.
  const guardExtra = setup.guard === 'plain' ? extra : { ...extra, 'x-request-id': 'req-1' };
  const refused = await send('/private', { headers: { authorization: 'Bearer not.a.token' } });
  expect(refused.status).toBe(401);
  expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  expectHeaders(refused, 'GET /private refused', { ...NO_STORE, ...guardExtra });
  const allowed = await send('/private', { headers: bearer });
  expect(allowed.status).toBe(200);
  expect(await allowed.json()).toEqual({ email: 'ada@example.com' });
}
