/**
 * A standard OAuth 2.0 client library (simple-oauth2, its ResourceOwnerPassword grant) gets a token
 * from POST /auth/token on a running server, for every adapter, and the token works on GET /auth/me.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth, migrate } from 'auth-kit';
import { ADAPTERS, type RunningApp } from './support/adapters.js';
import { type TestDatabase, openSqlite } from './support/databases.js';
import { GOOD_PASSWORD, newSecret } from './support/helpers.js';
import { request } from './support/http-client.js';

// simple-oauth2 ships no type declarations: the little used here, typed locally.
interface AccessToken {
  readonly token: { access_token: string; token_type: string; expires_in: number; expires_at: Date };
  expired(expirationWindowSeconds?: number): boolean;
}
interface BoomError extends Error {
  readonly output: { statusCode: number; headers: Record<string, string> };
  readonly data: { payload: unknown };
}
interface ResourceOwnerPasswordClient {
  getToken(params: { username: string; password: string; scope?: string | string[] }): Promise<AccessToken>;
}
type ResourceOwnerPasswordConstructor = new (config: {
  client: { id: string; secret: string };
  auth: { tokenHost: string; tokenPath: string };
  options?: { authorizationMethod?: 'header' | 'body'; bodyFormat?: 'form' | 'json' };
}) => ResourceOwnerPasswordClient;

const { ResourceOwnerPassword } = createRequire(import.meta.url)('simple-oauth2') as {
  ResourceOwnerPassword: ResourceOwnerPasswordConstructor;
};

for (const adapter of ADAPTERS) {
  describe(`simple-oauth2 ResourceOwnerPassword against ${adapter.name}`, () => {
    let t: TestDatabase;
    let app: RunningApp;
    const email = `oauth-client-${adapter.name}@example.com`;

    beforeAll(async () => {
      t = openSqlite('memory');
      await migrate(t.db);
      const auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret() } });
      await auth.register({ email, password: GOOD_PASSWORD, fullName: 'OAuth Client' });
      app = await adapter.start(auth);
    });
    afterAll(async () => {
      await app?.close();
      await t?.cleanup();
    });

    const variants = [
      { authorizationMethod: 'header', bodyFormat: 'form' },
      { authorizationMethod: 'body', bodyFormat: 'form' },
      { authorizationMethod: 'body', bodyFormat: 'json' },
    ] as const;

    for (const options of variants) {
      it(`obtains a token (client auth in the ${options.authorizationMethod}, ${options.bodyFormat} body) and uses it on /me`, async () => {
        const client = new ResourceOwnerPassword({
          client: { id: 'my-app', secret: '' },
          auth: { tokenHost: app.url, tokenPath: '/auth/token' },
          options,
        });
        const accessToken = await client.getToken({ username: email, password: GOOD_PASSWORD, scope: ['profile'] });
        expect(accessToken.token.token_type).toBe('bearer');
        expect(accessToken.token.expires_in).toBe(1800);
        expect(accessToken.expired()).toBe(false);

        const me = await request(`${app.url}/auth/me`, { headers: { authorization: `Bearer ${accessToken.token.access_token}` } });
        expect(me.status, me.body).toBe(200);
        expect(me.json()).toMatchObject({ email, fullName: 'OAuth Client', isActive: true });
      });
    }

    it('surfaces a wrong password as the RFC 6749 error the client library understands', async () => {
      const client = new ResourceOwnerPassword({
        client: { id: 'my-app', secret: '' },
        auth: { tokenHost: app.url, tokenPath: '/auth/token' },
      });
      const err = (await client.getToken({ username: email, password: 'not-the-password-1' }).catch((e: unknown) => e)) as BoomError;
      expect(err).toBeInstanceOf(Error);
      expect(err.output.statusCode).toBe(401);
      expect(err.data.payload).toEqual({ error: 'invalid_grant', error_description: 'Incorrect email or password' });
    });
  });
}
