/**
 * The Hono adapter builds its Response directly when its handler is the first of the request's
 * chain, and through `c.body()` when middleware ran before it. Either way the answer is the same
 * protocol response, and what the app's middleware set (before or after `next()`) is kept, except
 * that auth-kit's own headers win over a conflicting one set earlier (no-store stays no-store).
 * Real sockets on 127.0.0.1, @hono/node-server, SQLite in memory.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, migrate, openDatabase, type Auth } from 'auth-kit';
import { authRoutes, requireAuth, type AuthEnv } from 'auth-kit/hono';
import { GOOD_PASSWORD, newSecret } from './support/helpers.js';

const FORM = `username=ada%40example.com&password=${encodeURIComponent(GOOD_PASSWORD)}&grant_type=password`;

type Setup = {
  /** Registered on the app before the auth routes, or null for none. */
  middleware: MiddlewareHandler | null;
  /** Headers every answer must carry besides auth-kit's own. */
  expectExtra: Record<string, string>;
};

const setups: Record<string, Setup> = {
  'no middleware (the handler answers first)': { middleware: null, expectExtra: {} },
  'middleware that calls c.header() before next()': {
    middleware: async (c, next) => {
      c.header('X-Request-Id', 'req-1');
      await next();
    },
    expectExtra: { 'x-request-id': 'req-1' },
  },
  'middleware that sets a conflicting Cache-Control before next()': {
    middleware: async (c, next) => {
      c.header('Cache-Control', 'public, max-age=600');
      c.header('X-Before', 'yes');
      await next();
    },
    expectExtra: { 'x-before': 'yes' },
  },
  'middleware that touches c.res before next() and sets a header after it': {
    middleware: async (c, next) => {
      c.res.headers.set('X-Early', 'early');
      await next();
      c.header('X-After', 'after');
    },
    expectExtra: { 'x-early': 'early', 'x-after': 'after' },
  },
};

describe('hono adapter: responses, with and without middleware before the routes', () => {
  const db = openDatabase('sqlite:///:memory:');
  let auth: Auth;
  let accessToken: string;
  beforeAll(async () => {
    await migrate(db);
    auth = createAuth({ db, settings: { jwtSecretKey: newSecret() } });
    await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    ({ accessToken } = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }));
  });
  afterAll(() => db.destroy());

  async function withApp(setup: Setup, run: (base: string) => Promise<void>): Promise<void> {
    const app = new Hono<AuthEnv>();
    if (setup.middleware) app.use(setup.middleware);
    app.route('/auth', authRoutes(auth));
    app.get('/private', requireAuth(auth), (c) => c.json({ email: c.get('user').email }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    try {
      if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
      const { port } = server.address() as AddressInfo;
      await run(`http://127.0.0.1:${port}`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  function expectHeaders(res: Response, own: Record<string, string>, extra: Record<string, string>): void {
    for (const [name, value] of Object.entries({ ...own, ...extra })) {
      expect(res.headers.get(name), `${res.url} ${name}`).toBe(value);
    }
  }

  const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

  for (const [name, setup] of Object.entries(setups)) {
    it(`${name}: /me, /token, 401s and 204s carry auth-kit's headers and the middleware's`, async () => {
      await withApp(setup, async (base) => {
        const me = await fetch(`${base}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
        expect(me.status).toBe(200);
        expectHeaders(me, { 'content-type': 'application/json; charset=utf-8', ...NO_STORE }, setup.expectExtra);
        expect(((await me.json()) as { email: string }).email).toBe('ada@example.com');

        const token = await fetch(`${base}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: FORM,
        });
        expect(token.status).toBe(200);
        expectHeaders(token, NO_STORE, setup.expectExtra);
        const { access_token: fresh } = (await token.json()) as { access_token: string };
        expect((await auth.authenticate(fresh)).email).toBe('ada@example.com');

        const anonymous = await fetch(`${base}/auth/me`);
        expect(anonymous.status).toBe(401);
        expectHeaders(anonymous, { 'www-authenticate': 'Bearer', ...NO_STORE }, setup.expectExtra);

        const logout = await fetch(`${base}/auth/logout`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: 'not-a-real-token' }),
        });
        expect(logout.status).toBe(204);
        expect(await logout.text()).toBe('');
        expectHeaders(logout, NO_STORE, setup.expectExtra);

        // requireAuth as the route's first handler, refusing and letting through.
        const refused = await fetch(`${base}/private`, { headers: { authorization: 'Bearer not.a.token' } });
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
        expectHeaders(refused, {}, setup.expectExtra);
        const allowed = await fetch(`${base}/private`, { headers: { authorization: `Bearer ${accessToken}` } });
        expect(allowed.status).toBe(200);
        expect(await allowed.json()).toEqual({ email: 'ada@example.com' });
      });
    });
  }
});
