/**
 * The adapter conformance suite: ONE list of HTTP cases, run over real sockets on 127.0.0.1 against
 * every adapter in test/support/adapters.ts (Express, Hono, Fastify), each app on its own SQLite
 * in-memory database with a hand-moved clock. The core cases run again on every dialect of the
 * dialect loop (SQLite file and PostgreSQL included), and the body-parser cases with the app's own
 * parsers installed before and after mounting.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Auth, createAuth, migrate } from 'auth-kit';
import { ADAPTERS, type RunningApp } from './support/adapters.js';
import {
  CLOCK_START,
  type Case,
  USER_KEYS,
  type World,
  comparable,
  expectChallenge,
  expectError,
  expectJsonHeaders,
  getMe,
  makeWorld,
  postForm,
  postJson,
  registerUser,
  tokenFor,
  runConformance,
} from './support/conformance.js';
import { type TestDatabase, openSqlite } from './support/databases.js';
import { GOOD_PASSWORD, newSecret } from './support/helpers.js';
import { FORM, JSON_TYPE, type RawResponse, form, request } from './support/http-client.js';

// ---------------------------------------------------------------------------------------------
// The cases (the world they run in is test/support/conformance.ts). `core` cases also run on
// every dialect.
// ---------------------------------------------------------------------------------------------

const CASES: readonly Case[] = [
  {
    name: 'POST /register: 201 with the user (ISO dates, normalised email), never the hash',
    core: true,
    async run(w) {
      const email = w.email('ada');
      const res = await postJson(w, '/auth/register', { email: `  ${email.toUpperCase()} `, password: GOOD_PASSWORD, fullName: 'Ada Lovelace' });
      expect(res.status, res.body).toBe(201);
      expectJsonHeaders(res);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(USER_KEYS);
      expect(body).toMatchObject({ email, fullName: 'Ada Lovelace', isActive: true, createdAt: CLOCK_START, updatedAt: null });
      expect(Number.isSafeInteger(body.id)).toBe(true);
      expect(res.body).not.toContain('argon2');
      expect(res.body).not.toContain(GOOD_PASSWORD);
    },
  },
  {
    name: 'POST /register: a duplicate email (any case) is 400 email_already_registered',
    core: true,
    async run(w) {
      const { email } = await registerUser(w);
      const res = await postJson(w, '/auth/register', { email: email.toUpperCase(), password: 'another-fine-password-9' });
      expect(res.status).toBe(400);
      expectJsonHeaders(res);
      expect(res.body).toBe('{"error":"email_already_registered","error_description":"Email already registered"}');
    },
  },
  {
    name: 'POST /register: two simultaneous registrations of one email give one 201 and one 400, never a 500 (S20)',
    core: true,
    async run(w) {
      const email = w.email('race');
      const results = await Promise.all([
        postJson(w, '/auth/register', { email, password: GOOD_PASSWORD }),
        postJson(w, '/auth/register', { email: email.toUpperCase(), password: GOOD_PASSWORD }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 400]);
      const loser = results.find((r) => r.status === 400)!;
      expect(loser.body).toBe('{"error":"email_already_registered","error_description":"Email already registered"}');
    },
  },
  {
    name: 'POST /register: invalid input is 422 invalid_request with issues, and the password is not echoed',
    core: true,
    async run(w) {
      const res = await postJson(w, '/auth/register', { email: 'not-an-email', password: 'short7x' });
      const body = expectError(res, 422, 'invalid_request', ['issues']);
      const paths = body.issues.map((i: { path: string }) => i.path).sort();
      expect(paths).toEqual(['email', 'password']);
      for (const issue of body.issues) expect(Object.keys(issue).sort()).toEqual(['message', 'path']);
      expect(res.body).not.toContain('short7x');
      const common = await postJson(w, '/auth/register', { email: w.email(), password: 'password123' });
      expect(expectError(common, 422, 'invalid_request', ['issues']).issues[0].path).toBe('password');
    },
  },
  {
    name: 'POST /register: privileged fields in the body are ignored (S7)',
    async run(w) {
      const email = w.email('sneaky');
      const res = await postJson(w, '/auth/register', {
        email,
        password: GOOD_PASSWORD,
        id: 999_999,
        isActive: false,
        hashedPassword: '$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB',
        role: 'admin',
        createdAt: '2000-01-01T00:00:00.000Z',
      });
      expect(res.status, res.body).toBe(201);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(USER_KEYS);
      expect(body.id).not.toBe(999_999);
      expect(body.isActive).toBe(true);
      expect(body.createdAt).toBe(CLOCK_START);
      expect(await w.auth.users.getUserById(999_999)).toBeNull();
      await tokenFor(w, email); // the password given is the one stored, not the smuggled hash
    },
  },
  {
    name: 'POST /token: form login → 200 {access_token, token_type, expires_in, refresh_token, refresh_expires_in} with no-store and no-cache (S9)',
    core: true,
    async run(w) {
      const { id, email } = await registerUser(w);
      const res = await postForm(w, '/auth/token', { grant_type: 'password', username: email, password: GOOD_PASSWORD, scope: '' });
      expect(res.status, res.body).toBe(200);
      expectJsonHeaders(res);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'token_type']);
      expect(body.token_type).toBe('bearer');
      expect(body.expires_in).toBe(1800);
      // Opaque, 256 bits in base64url (S17); the session lasts 14 days by default.
      expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(body.refresh_expires_in).toBe(14 * 24 * 3600);
      const claims = await w.auth.tokens.verifyAccessToken(body.access_token);
      expect(claims.sub).toBe(String(id));
      expect(typeof claims.sid).toBe('string');
    },
  },
  {
    name: 'POST /token: a JSON body works too, and grant_type may be omitted',
    async run(w) {
      const { email } = await registerUser(w);
      const res = await postJson(w, '/auth/token', { username: email, password: GOOD_PASSWORD });
      expect(res.status, res.body).toBe(200);
      expectJsonHeaders(res);
      const noGrant = await postForm(w, '/auth/token', { username: email, password: GOOD_PASSWORD, scope: 'read write' });
      expect(noGrant.status, noGrant.body).toBe(200);
    },
  },
  {
    name: 'POST /token: unknown email, wrong password and deactivated user give byte-identical 401 invalid_grant (S10)',
    core: true,
    async run(w) {
      const known = await registerUser(w);
      const inactive = await registerUser(w, 'inactive');
      await w.auth.users.deactivateUser(inactive.id);
      const responses = [
        await postForm(w, '/auth/token', { grant_type: 'password', username: w.email('nobody'), password: GOOD_PASSWORD }),
        await postForm(w, '/auth/token', { grant_type: 'password', username: known.email, password: `${GOOD_PASSWORD}x` }),
        await postForm(w, '/auth/token', { grant_type: 'password', username: inactive.email, password: GOOD_PASSWORD }),
      ];
      const first = responses[0];
      expect(first.status).toBe(401);
      expectJsonHeaders(first);
      expect(first.body).toBe('{"error":"invalid_grant","error_description":"Incorrect email or password"}');
      expect(first.headers['www-authenticate']).toBe('Bearer');
      for (const res of responses.slice(1)) expect(comparable(res)).toEqual(comparable(first));
    },
  },
  {
    name: 'POST /token: missing or empty username/password is 400 invalid_request',
    async run(w) {
      const { email } = await registerUser(w);
      const cases = [
        await postForm(w, '/auth/token', { grant_type: 'password', username: email }),
        await postForm(w, '/auth/token', { grant_type: 'password', password: GOOD_PASSWORD }),
        await postForm(w, '/auth/token', { grant_type: 'password', username: '', password: GOOD_PASSWORD }),
        await postForm(w, '/auth/token', { grant_type: 'password', username: email, password: '' }),
        await postJson(w, '/auth/token', {}),
        await request(w.url('/auth/token'), { method: 'POST' }), // no body at all
      ];
      for (const res of cases) expectError(res, 400, 'invalid_request');
    },
  },
  {
    name: 'POST /token: another grant_type is 400 unsupported_grant_type',
    async run(w) {
      for (const grant of ['client_credentials', 'authorization_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer', 'toString', '__proto__', 'REFRESH_TOKEN']) {
        const res = await postForm(w, '/auth/token', { grant_type: grant, username: 'a@example.com', password: GOOD_PASSWORD });
        const body = expectError(res, 400, 'unsupported_grant_type');
        expect(body.error_description).toContain('supported: password, refresh_token');
      }
    },
  },
  {
    name: 'POST /token: credentials in the query string are refused (400 invalid_request)',
    async run(w) {
      const { email } = await registerUser(w);
      const query = new URLSearchParams({ grant_type: 'password', username: email, password: GOOD_PASSWORD }).toString();
      const inQuery = await request(w.url(`/auth/token?${query}`), { method: 'POST', headers: { 'content-type': FORM }, body: '' });
      expectError(inQuery, 400, 'invalid_request');
      expect(inQuery.body).not.toContain(GOOD_PASSWORD);
      // Even with valid credentials in the body, a password in the URL is refused.
      const both = await request(w.url(`/auth/token?password=${encodeURIComponent(GOOD_PASSWORD)}`), {
        method: 'POST',
        headers: { 'content-type': FORM },
        body: form({ username: email, password: GOOD_PASSWORD }),
      });
      expectError(both, 400, 'invalid_request');
    },
  },
  {
    name: 'GET /me: no Authorization header is 401 with a bare "WWW-Authenticate: Bearer" (S16)',
    core: true,
    async run(w) {
      const res = await getMe(w);
      expectError(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    },
  },
  {
    name: 'GET /me: a malformed Authorization header is 401 invalid_request (S16)',
    async run(w) {
      const { email } = await registerUser(w);
      const token = await tokenFor(w, email);
      const malformed = ['Basic YWRhOnNlY3JldA==', 'Bearer', 'Bearer ', `Bearer ${token} extra`, `Token ${token}`, `Bearer "${token}"`, `Bearer ${token},x`, ''];
      for (const header of malformed) {
        const res = await getMe(w, header);
        expectError(res, 401, 'invalid_request');
        expectChallenge(res, 'invalid_request');
      }
      // The scheme is case-insensitive (RFC 9110 11.1): this one is well-formed.
      expect((await getMe(w, `bearer ${token}`)).status).toBe(200);
    },
  },
  {
    name: 'GET /me: a garbage or tampered token is 401 invalid_token with the challenge (S14)',
    core: true,
    async run(w) {
      const { email } = await registerUser(w);
      const token = await tokenFor(w, email);
      const [h, p, s] = token.split('.');
      const flipped = `${h}.${p}.${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
      for (const bad of ['abc.def.ghi', 'not-a-jwt', flipped, `${h}.${p}.`.replace(/\.$/, '.x'), 'a'.repeat(5000)]) {
        const res = await getMe(w, `Bearer ${bad}`);
        const body = expectError(res, 401, 'invalid_token');
        expectChallenge(res, 'invalid_token');
        expect(res.body).not.toContain(bad.slice(0, 40));
        expect(body.error_description).not.toMatch(/stack|at \w+ \(/);
      }
    },
  },
  {
    name: 'GET /me: an expired token is 401 invalid_token',
    async run(w) {
      const { email } = await registerUser(w);
      const token = await tokenFor(w, email);
      w.clock.advance(31 * 60 * 1000);
      try {
        const res = await getMe(w, `Bearer ${token}`);
        const body = expectError(res, 401, 'invalid_token');
        expectChallenge(res, 'invalid_token');
        expect(body.error_description).toMatch(/expired/i);
      } finally {
        w.clock.set(CLOCK_START);
      }
    },
  },
  {
    name: 'GET /me: the token of a deactivated user is 401 invalid_token (S15)',
    core: true,
    async run(w) {
      const { id, email } = await registerUser(w);
      const token = await tokenFor(w, email);
      expect((await getMe(w, `Bearer ${token}`)).status).toBe(200);
      await w.auth.users.deactivateUser(id);
      const res = await getMe(w, `Bearer ${token}`);
      expectError(res, 401, 'invalid_token');
      expectChallenge(res, 'invalid_token');
    },
  },
  {
    name: 'GET /me: a token issued before a password change is 401 invalid_token (S15)',
    async run(w) {
      const { id, email } = await registerUser(w);
      const token = await tokenFor(w, email);
      await w.auth.users.updateUser(id, { password: 'a-brand-new-password-42' });
      const res = await getMe(w, `Bearer ${token}`);
      expectError(res, 401, 'invalid_token');
      expectChallenge(res, 'invalid_token');
      expect((await getMe(w, `Bearer ${await tokenFor(w, email, 'a-brand-new-password-42')}`)).status).toBe(200);
    },
  },
  {
    name: 'GET /me: a valid token → 200 with the user',
    core: true,
    async run(w) {
      const { id, email } = await registerUser(w);
      const res = await getMe(w, `Bearer ${await tokenFor(w, email)}`);
      expect(res.status, res.body).toBe(200);
      expectJsonHeaders(res);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual(USER_KEYS);
      expect(body).toMatchObject({ id, email, isActive: true, fullName: null });
    },
  },
  {
    name: 'a body over the limit is 413, whether declared by Content-Length or counted while streaming',
    async run(w) {
      const big = JSON.stringify({ email: w.email(), password: GOOD_PASSWORD, fullName: 'x'.repeat(20 * 1024) });
      expectError(await request(w.url('/auth/register'), { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: big }), 413, 'invalid_request');
      const chunked = await request(w.url('/auth/register'), { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: big, chunked: true });
      expectError(chunked, 413, 'invalid_request');
      const bigForm = form({ username: 'a@example.com', password: 'p'.repeat(17 * 1024) });
      expectError(await request(w.url('/auth/token'), { method: 'POST', headers: { 'content-type': FORM }, body: bigForm, chunked: true }), 413, 'invalid_request');
      // The server is fine afterwards.
      expect((await request(w.url('/health'))).status).toBe(200);
    },
  },
  {
    name: 'malformed JSON (or JSON that is not an object) is 400 invalid_request',
    async run(w) {
      for (const body of ['{"email":', '', 'null', '[1,2]', '"text"', '{"a":1}}']) {
        const res = await request(w.url('/auth/register'), { method: 'POST', headers: { 'content-type': JSON_TYPE }, body });
        expectError(res, 400, 'invalid_request');
      }
      const token = await request(w.url('/auth/token'), { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: '{"username":"a@example.com","password":' });
      expectError(token, 400, 'invalid_request');
    },
  },
  {
    name: 'a wrong content type is 415',
    async run(w) {
      const cases: [string, string, string][] = [
        ['/auth/register', 'text/plain', '{"email":"a@example.com","password":"x"}'],
        ['/auth/register', FORM, form({ email: 'a@example.com', password: GOOD_PASSWORD })],
        ['/auth/token', 'application/xml', '<username>a</username>'],
        ['/auth/token', 'multipart/form-data; boundary=x', '--x--'],
        ['/auth/token', 'application/json; charset=latin1', '{}'],
      ];
      for (const [path, type, body] of cases) {
        expectError(await request(w.url(path), { method: 'POST', headers: { 'content-type': type }, body }), 415, 'invalid_request');
      }
      // A body without any content type is not guessed at.
      expectError(await request(w.url('/auth/register'), { method: 'POST', body: '{"email":"a@example.com"}' }), 415, 'invalid_request');
    },
  },
  {
    name: 'a non-string field is 422 (never coerced, S6)',
    async run(w) {
      const { email } = await registerUser(w);
      const cases = [
        await postJson(w, '/auth/register', { email: 12345, password: GOOD_PASSWORD }),
        await postJson(w, '/auth/register', { email: w.email(), password: 12345678 }),
        await postJson(w, '/auth/register', { email: w.email(), password: [GOOD_PASSWORD] }),
        await postJson(w, '/auth/token', { username: [email], password: GOOD_PASSWORD }),
        await postJson(w, '/auth/token', { username: email, password: { $ne: '' } }),
        await postJson(w, '/auth/token', { username: email, password: GOOD_PASSWORD, grant_type: 1 }),
        await postForm(w, '/auth/token', { username: [email, email], password: GOOD_PASSWORD }),
      ];
      for (const res of cases) expectError(res, 422, 'invalid_request', ['issues']);
    },
  },
  {
    name: "the app's own route behind requireAuth: 200 with the user, 401 without",
    core: true,
    async run(w) {
      const { id, email } = await registerUser(w);
      const token = await tokenFor(w, email);
      const ok = await request(w.url('/private'), { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status, ok.body).toBe(200);
      expect(ok.json()).toEqual({ id, email });
      const missing = await request(w.url('/private'));
      expectError(missing, 401, 'unauthorized');
      expect(missing.headers['www-authenticate']).toBe('Bearer');
      const bad = await request(w.url('/private'), { headers: { authorization: 'Bearer abc.def.ghi' } });
      expectError(bad, 401, 'invalid_token');
      expectChallenge(bad, 'invalid_token');
    },
  },
  {
    name: "an unknown path under the mount is the framework's own 404; the app's routes are untouched",
    async run(w) {
      for (const path of ['/auth/nope', '/auth', '/auth/token/extra']) {
        const res = await request(w.url(path), { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: '{}' });
        expect(res.status, `${path}: ${res.body}`).toBe(404);
        expect(res.body).not.toContain('not_found');
        expect(res.headers['cache-control']).toBeUndefined();
      }
      const health = await request(w.url('/health'));
      expect(health.status).toBe(200);
      expect(health.json()).toEqual({ ok: true });
    },
  },
  {
    name: 'a method a route does not have is 405 with Allow',
    async run(w) {
      const get = await request(w.url('/auth/token'));
      expectError(get, 405, 'invalid_request');
      expect(get.headers.allow).toBe('POST');
      const del = await request(w.url('/auth/me'), { method: 'DELETE' });
      expectError(del, 405, 'invalid_request');
      expect(del.headers.allow).toBe('GET, HEAD');
      const head = await request(w.url('/auth/me'), { method: 'HEAD' });
      expect(head.status).toBe(401);
      expect(head.headers['www-authenticate']).toBe('Bearer');
      expect(head.body).toBe('');
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The loops
// ---------------------------------------------------------------------------------------------

runConformance('conformance', CASES);

// ---------------------------------------------------------------------------------------------
// The app's own body parsers, installed before and after mounting auth-kit
// ---------------------------------------------------------------------------------------------

for (const adapter of ADAPTERS) {
  for (const parsers of ['before', 'after'] as const) {
    describe(`conformance [${adapter.name}] with the app's own body parsers ${parsers} the mount`, () => {
      let t: TestDatabase;
      let w: World;
      beforeAll(async () => {
        t = openSqlite('memory');
        w = await makeWorld(adapter, t, { parsers });
      });
      afterAll(async () => {
        await w?.app.close();
        await t?.cleanup();
      });
      afterEach(() => {
        expect(w.errors).toEqual([]);
      });

      it('register (JSON), token (form and JSON) and /me work', async () => {
        const email = w.email();
        const reg = await postJson(w, '/auth/register', { email, password: GOOD_PASSWORD, isActive: false });
        expect(reg.status, reg.body).toBe(201);
        expect(reg.json().isActive).toBe(true);
        const byForm = await postForm(w, '/auth/token', { grant_type: 'password', username: email, password: GOOD_PASSWORD });
        expect(byForm.status, byForm.body).toBe(200);
        const byJson = await postJson(w, '/auth/token', { username: email, password: GOOD_PASSWORD });
        expect(byJson.status, byJson.body).toBe(200);
        const me = await getMe(w, `Bearer ${byJson.json().access_token}`);
        expect(me.status).toBe(200);
        expect(me.json().email).toBe(email);
      });

      it('the same errors: 401 invalid_grant, 422 non-string, 415, 413 by Content-Length', async () => {
        const { email } = await registerUser(w);
        const wrong = await postForm(w, '/auth/token', { username: email, password: 'wrong-password-123' });
        expect(wrong.body).toBe('{"error":"invalid_grant","error_description":"Incorrect email or password"}');
        expect(wrong.status).toBe(401);
        expectError(await postForm(w, '/auth/token', { username: [email, email], password: GOOD_PASSWORD }), 422, 'invalid_request', ['issues']);
        expectError(await postJson(w, '/auth/token', { username: email, password: 42 }), 422, 'invalid_request', ['issues']);
        expectError(await request(w.url('/auth/token'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }), 415, 'invalid_request');
        const big = JSON.stringify({ email: w.email(), password: GOOD_PASSWORD, fullName: 'x'.repeat(20 * 1024) });
        expectError(await request(w.url('/auth/register'), { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: big }), 413, 'invalid_request');
      });

      it('the refresh grant, logout and a password change work on bodies the app already parsed', async () => {
        const { email } = await registerUser(w);
        const first = (await postJson(w, '/auth/token', { username: email, password: GOOD_PASSWORD })).json();
        const byForm = await postForm(w, '/auth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token });
        expect(byForm.status, byForm.body).toBe(200);
        const byJson = await postJson(w, '/auth/token', { grant_type: 'refresh_token', refresh_token: byForm.json().refresh_token });
        expect(byJson.status, byJson.body).toBe(200);
        const changed = await postJson(
          w,
          '/auth/password',
          { currentPassword: GOOD_PASSWORD, newPassword: 'saffron-harbour-58-lattice' },
          { authorization: `Bearer ${byJson.json().access_token}` },
        );
        expect(changed.status, changed.body).toBe(200);
        const logout = await postForm(w, '/auth/logout', { refresh_token: byJson.json().refresh_token });
        expect(logout.status, logout.body).toBe(204);
        const after = await postForm(w, '/auth/token', { grant_type: 'refresh_token', refresh_token: byJson.json().refresh_token });
        expectError(after, 400, 'invalid_grant');
      });

      it("the app's own routes still get the app's parser", async () => {
        const json = await postJson(w, '/echo', { hello: 'world' });
        expect(json.status, json.body).toBe(200);
        expect(json.json().parsed).toMatchObject({ hello: 'world' });
        const byForm = await postForm(w, '/echo', { hello: 'form' });
        expect(byForm.status, byForm.body).toBe(200);
        expect(byForm.json().parsed).toMatchObject({ hello: 'form' });
        if (adapter.name === 'fastify') {
          // The parent scope's parsers handled these, not auth-kit's encapsulated one.
          expect(json.json().parsed.parsedBy).toBe('app-json');
          expect(byForm.json().parsed.parsedBy).toBe('app-form');
        }
      });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Options reach the protocol through every adapter
// ---------------------------------------------------------------------------------------------

for (const adapter of ADAPTERS) {
  describe(`conformance [${adapter.name}] options`, () => {
    it('maxBodyBytes is honoured by authRoutes', async () => {
      const t = openSqlite('memory');
      await migrate(t.db);
      const auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret() } });
      const app = await adapter.start(auth, { maxBodyBytes: 200 });
      try {
        const body = JSON.stringify({ email: 'limit@example.com', password: GOOD_PASSWORD, fullName: 'x'.repeat(150) });
        expect(Buffer.byteLength(body)).toBeGreaterThan(200);
        for (const chunked of [false, true]) {
          const res = await request(`${app.url}/auth/register`, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body, chunked });
          expect(res.status, res.body).toBe(413);
        }
        const small = JSON.stringify({ email: 'limit@example.com', password: GOOD_PASSWORD });
        expect((await request(`${app.url}/auth/register`, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: small })).status).toBe(201);
      } finally {
        await app.close();
        await t.cleanup();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Unexpected errors: 500 {"error":"server_error"}, nothing internal, the error to the logger
// ---------------------------------------------------------------------------------------------

for (const adapter of ADAPTERS) {
  describe(`conformance [${adapter.name}] unexpected errors`, () => {
    let t: TestDatabase;
    let auth: Auth;
    let token: string;
    beforeAll(async () => {
      // Valid settings, but the database was never migrated: every query fails inside the kit.
      t = openSqlite('memory');
      auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret() } });
      ({ accessToken: token } = await auth.tokens.createAccessToken({ id: 1 }));
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    async function expectServerErrors(app: RunningApp): Promise<RawResponse[]> {
      const responses = [
        await request(`${app.url}/auth/register`, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: JSON.stringify({ email: 'a@example.com', password: GOOD_PASSWORD }) }),
        await request(`${app.url}/auth/token`, { method: 'POST', headers: { 'content-type': FORM }, body: form({ username: 'a@example.com', password: GOOD_PASSWORD }) }),
        await request(`${app.url}/auth/me`, { headers: { authorization: `Bearer ${token}` } }),
        await request(`${app.url}/private`, { headers: { authorization: `Bearer ${token}` } }),
      ];
      for (const res of responses) {
        expect(res.status, res.body).toBe(500);
        expect(res.body).toBe('{"error":"server_error"}');
        expectJsonHeaders(res);
      }
      return responses;
    }

    it('answers 500 server_error and hands the error to onError', async () => {
      const errors: unknown[] = [];
      const app = await adapter.start(auth, { onError: (err) => errors.push(err) });
      try {
        await expectServerErrors(app);
      } finally {
        await app.close();
      }
      expect(errors).toHaveLength(4);
      for (const err of errors) expect(String((err as Error).message)).toMatch(/no such table/);
    });

    it("without onError, the error goes to the framework's logger", async () => {
      const lines: string[] = [];
      const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
        lines.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
      });
      const app = await adapter.start(auth, { logLines: lines });
      try {
        await expectServerErrors(app);
      } finally {
        await app.close();
        spy.mockRestore();
      }
      const logged = lines.filter((line) => /no such table/.test(line));
      expect(logged.length, lines.join('\n')).toBe(4);
      if (adapter.name === 'fastify') {
        // Fastify: request.log.error, a structured line with the error serialised as `err`.
        expect(JSON.parse(logged[0])).toMatchObject({ level: 50, err: { message: expect.stringMatching(/no such table/) } });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Optional peers: an adapter loads its own framework and nothing else (the BUILT package)
// ---------------------------------------------------------------------------------------------

describe('each adapter loads only its own framework', () => {
  const FRAMEWORK_PACKAGES = ['express', 'hono', 'fastify', '@hono/node-server'];
  const expected: Record<string, string[]> = { express: ['express'], hono: ['hono'], fastify: [] };

  it('require(auth-kit/<adapter>) pulls in its framework only (Fastify: types only, nothing at run time)', { timeout: 240_000 }, async () => {
    const { ensureFreshDist, runNode } = await import('./support/dist.js');
    await ensureFreshDist();
    for (const [adapter, allowed] of Object.entries(expected)) {
      const script = `
        require('auth-kit/${adapter}');
        const loaded = new Set();
        for (const file of Object.keys(require.cache)) {
          const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(file);
          if (m) loaded.add(m[1]);
        }
        console.log(JSON.stringify([...loaded]));`;
      const result = await runNode(['-e', script]);
      expect(result.code, result.stderr).toBe(0);
      const loaded: string[] = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
      expect(loaded.filter((p) => FRAMEWORK_PACKAGES.includes(p)).sort(), adapter).toEqual(allowed);
    }
  });
});
