/**
 * The Hono response checks of test/hono-response.test.ts through `app.request()`: no Node server,
 * so the runtime's own Fetch Response (this file never starts @hono/node-server, which would
 * replace it for the whole process). SQLite in memory.
 */
import { describe, expect, it } from 'vitest';
import { HONO_SETUPS, checkHonoAnswers, honoApp, useHonoFixture } from './support/hono-answers.js';

describe('hono adapter through app.request(): the same answers with the runtime Response', () => {
  const NativeResponse = globalThis.Response;
  const fixture = useHonoFixture();

  for (const [name, setup] of Object.entries(HONO_SETUPS)) {
    it(name, async () => {
      const app = honoApp(fixture.auth, setup);
      await checkHonoAnswers(async (path, init) => app.request(path, init), setup, fixture.accessToken, fixture.auth);
      // Still the runtime's own class: nothing here swapped it for @hono/node-server's.
      expect(globalThis.Response).toBe(NativeResponse);
      expect((await app.request('/auth/me')) instanceof NativeResponse).toBe(true);
    });
  }
});
