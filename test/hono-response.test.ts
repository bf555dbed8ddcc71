/**
 * The Hono adapter builds its Response directly when a route handler is the first of the
 * request's chain, and through the context otherwise (behind middleware, and always in
 * `requireAuth`, which an app can wrap). Either way the answer carries auth-kit's headers with
 * auth-kit's values and keeps what the app's middleware set. Real sockets on 127.0.0.1 through
 * @hono/node-server (which swaps in its own Response class); test/hono-fetch.test.ts runs the same
 * checks through `app.request()` with the runtime's own Response. SQLite in memory.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { describe, it } from 'vitest';
import { HONO_SETUPS, checkHonoAnswers, honoApp, useHonoFixture } from './support/hono-answers.js';

describe('hono adapter over @hono/node-server: responses with and without middleware in front', () => {
  const fixture = useHonoFixture();

  for (const [name, setup] of Object.entries(HONO_SETUPS)) {
    it(name, async () => {
      const server = serve({ fetch: honoApp(fixture.auth, setup).fetch, port: 0, hostname: '127.0.0.1' });
      try {
        if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
        const { port } = server.address() as AddressInfo;
        await checkHonoAnswers((path, init) => fetch(`http://127.0.0.1:${port}${path}`, init), setup, fixture.accessToken, fixture.auth);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
});
