/**
 * The Hono response checks of test/hono-response.test.ts through `app.request()`: no Node server,
 * so the runtime's own Fetch Response (this file never starts @hono/node-server, which would
 * replace it for the whole process). SQLite in memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, migrate, openDatabase, type Auth } from 'auth-kit';
import { HONO_SETUPS, checkHonoAnswers, honoApp } from './support/hono-answers.js';
import { GOOD_PASSWORD, newSecret } from './support/helpers.js';

describe('hono adapter through app.request(): the same answers with the runtime Response', () => {
  const db = openDatabase('sqlite:///:memory:');
  const NativeResponse = globalThis.Response;
  let auth: Auth;
  let accessToken: string;
  beforeAll(async () => {
    await migrate(db);
    auth = createAuth({ db, settings: { jwtSecretKey: newSecret() } });
    await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
    ({ accessToken } = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD }));
  });
  afterAll(() => db.destroy());

  for (const [name, setup] of Object.entries(HONO_SETUPS)) {
    it(name, async () => {
      const app = honoApp(auth, setup);
      await checkHonoAnswers(async (path, init) => app.request(path, init), setup, accessToken, auth);
      // Still the runtime's own class: nothing here swapped it for @hono/node-server's.
      expect(globalThis.Response).toBe(NativeResponse);
      expect((await app.request('/auth/me')) instanceof NativeResponse).toBe(true);
    });
  }
});
