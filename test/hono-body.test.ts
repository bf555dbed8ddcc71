/**
 * The Hono adapter reads a POST body from the Node request itself when nothing has touched it,
 * and through the Fetch request otherwise: either way `/token` gets the whole body. Real sockets
 * on 127.0.0.1, @hono/node-server, SQLite in memory.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, migrate, openDatabase, type Auth } from 'auth-kit';
import { authRoutes } from 'auth-kit/hono';
import { GOOD_PASSWORD, newSecret } from './support/helpers.js';

const FORM = `username=ada%40example.com&password=${encodeURIComponent(GOOD_PASSWORD)}&grant_type=password`;

describe('hono adapter: POST bodies whoever touched the request first', () => {
  const db = openDatabase('sqlite:///:memory:');
  let auth: Auth;
  beforeAll(async () => {
    await migrate(db);
    auth = createAuth({ db, settings: { jwtSecretKey: newSecret() } });
    await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
  });
  afterAll(() => db.destroy());

  const cases: Record<string, MiddlewareHandler> = {
    'nothing touched the request': async (_c, next) => next(),
    'a middleware read the URL and headers of the Fetch request': async (c, next) => {
      void c.req.raw.url;
      void c.req.raw.headers.get('content-type');
      await next();
    },
    'a middleware created the Fetch body stream without reading it': async (c, next) => {
      void c.req.raw.body;
      await next();
    },
    'a middleware read the body as text': async (c, next) => {
      await c.req.text();
      await next();
    },
  };

  for (const [name, middleware] of Object.entries(cases)) {
    it(`${name}: /token answers 200 with a working token`, async () => {
      const app = new Hono();
      app.use(middleware);
      app.route('/auth', authRoutes(auth));
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
      try {
        if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
        const { port } = server.address() as AddressInfo;
        const res = await fetch(`http://127.0.0.1:${port}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: FORM,
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { access_token: string };
        expect((await auth.authenticate(body.access_token)).email).toBe('ada@example.com');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
});
