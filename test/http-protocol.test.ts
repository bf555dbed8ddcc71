/**
 * Direct tests of the framework-free HTTP protocol (src/http.ts, src/http-protocol.ts): the handler
 * called with request objects, no framework and no socket. The adapters' behaviour over real
 * sockets is test/conformance.test.ts.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTH_ROUTES,
  type Auth,
  AuthKitError,
  type AuthHttpRequest,
  HTTP_ERRORS,
  HttpProblem,
  authenticateRequest,
  createAuth,
  createAuthHandler,
  errorResponse,
  migrate,
} from 'auth-kit';
import { type TestDatabase, openSqlite } from './support/databases.js';
import { GOOD_PASSWORD, caught, fakeClock, newSecret } from './support/helpers.js';

const FORM = 'application/x-www-form-urlencoded';

let t: TestDatabase;
let auth: Auth;
const clock = fakeClock();

beforeAll(async () => {
  t = openSqlite('memory');
  await migrate(t.db);
  auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret() }, clock: clock.now });
  await auth.register({ email: 'ada@example.com', password: GOOD_PASSWORD });
});
afterAll(async () => {
  await t?.cleanup();
});

function post(path: string, type: string | undefined, body: AuthHttpRequest['body'], extra: Partial<AuthHttpRequest> = {}): AuthHttpRequest {
  return { method: 'POST', path, headers: type === undefined ? {} : { 'content-type': type }, body, query: '', ...extra };
}

/** A stream that yields `chunks` and records how far it was read. */
function trackedStream(chunks: Buffer[]) {
  const state = { pulled: 0, finished: false };
  async function* gen() {
    for (const chunk of chunks) {
      state.pulled++;
      yield chunk;
    }
    state.finished = true;
  }
  return { stream: gen(), state };
}

describe('createAuthHandler', () => {
  it('lists the route table paths and validates its options at construction', () => {
    const handler = createAuthHandler(auth);
    expect(handler.paths).toEqual(Object.keys(AUTH_ROUTES));
    expect(handler.paths).toEqual(expect.arrayContaining(['/register', '/token', '/me']));
    expect(handler.maxBodyBytes).toBe(16 * 1024);
    for (const maxBodyBytes of [0, -1, 1.5, Number.NaN, 2 * 1024 * 1024]) {
      expect(() => createAuthHandler(auth, { maxBodyBytes })).toThrow(AuthKitError);
    }
    expect(() => createAuthHandler({} as Auth)).toThrow(/createAuth/);
    expect(() => createAuthHandler(auth, { onError: 'log' as never })).toThrow(/onError/);
  });

  it('answers an unknown path 404 and a wrong method 405 with Allow; HEAD is GET', async () => {
    const handler = createAuthHandler(auth);
    const missing = await handler.handle({ method: 'GET', path: '/nope', headers: {} });
    expect(missing.status).toBe(404);
    const proto = await handler.handle({ method: 'GET', path: '__proto__', headers: {} });
    expect(proto.status).toBe(404);
    const wrong = await handler.handle({ method: 'PUT', path: '/register', headers: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.Allow).toBe('POST');
    const head = await handler.handle({ method: 'head', path: '/me', headers: {} });
    expect(head.status).toBe(401);
    expect(head.headers['WWW-Authenticate']).toBe('Bearer');
  });

  it('logs in from raw bytes, from a stream, and from an object the app already parsed', async () => {
    const handler = createAuthHandler(auth);
    const fields = `username=ada%40example.com&password=${encodeURIComponent(GOOD_PASSWORD)}`;
    const bodies: AuthHttpRequest['body'][] = [
      { kind: 'bytes', bytes: fields },
      { kind: 'bytes', bytes: Buffer.from(fields) },
      { kind: 'stream', stream: Readable.from([Buffer.from(fields.slice(0, 5)), Buffer.from(fields.slice(5))]) },
      { kind: 'parsed', value: { username: 'ada@example.com', password: GOOD_PASSWORD } },
    ];
    for (const body of bodies) {
      const res = await handler.handle(post('/token', FORM, body));
      expect(res.status, res.body).toBe(200);
      expect(res.headers['Cache-Control']).toBe('no-store');
      expect(res.headers.Pragma).toBe('no-cache');
      expect(Object.keys(JSON.parse(res.body)).sort()).toEqual(['access_token', 'expires_in', 'refresh_expires_in', 'refresh_token', 'token_type']);
    }
  });

  it('counts streamed bytes against maxBodyBytes, stops keeping them, and drains the rest', async () => {
    const handler = createAuthHandler(auth, { maxBodyBytes: 1024 });
    const chunks = Array.from({ length: 8 }, () => Buffer.alloc(512, 'a'));
    const { stream, state } = trackedStream(chunks);
    const res = await handler.handle(post('/register', 'application/json', { kind: 'stream', stream }));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error).toBe('invalid_request');
    // The 413 came after the third chunk; the rest is read and discarded in the background.
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 100 && !state.finished; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(state.finished).toBe(true);
  });

  it('refuses a declared Content-Length over the limit before reading, and the exact limit passes', async () => {
    const handler = createAuthHandler(auth, { maxBodyBytes: 100 });
    const over = await handler.handle({
      ...post('/token', FORM, { kind: 'bytes', bytes: 'x' }),
      headers: { 'content-type': FORM, 'content-length': '101' },
    });
    expect(over.status).toBe(413);
    const atLimit = `username=a%40example.com&password=${'p'.repeat(100 - 34)}`;
    expect(Buffer.byteLength(atLimit)).toBe(100);
    const ok = await handler.handle(post('/token', FORM, { kind: 'bytes', bytes: atLimit }));
    expect(ok.status).toBe(401);
    const oneMore = await handler.handle(post('/token', FORM, { kind: 'bytes', bytes: `${atLimit}p` }));
    expect(oneMore.status).toBe(413);
  });

  it('answers malformed bodies 400, unsupported media 415 and compressed bodies 415', async () => {
    const handler = createAuthHandler(auth);
    const cases: [AuthHttpRequest, number][] = [
      [post('/register', 'application/json', { kind: 'bytes', bytes: Buffer.from([0x7b, 0xff, 0x7d]) }), 400],
      [post('/register', 'application/json', { kind: 'parsed', value: [1, 2] }), 400],
      [post('/register', 'application/vnd.api+json', { kind: 'bytes', bytes: '{"email":1}' }), 422],
      [post('/register', 'text/plain', { kind: 'bytes', bytes: '{}' }), 415],
      [post('/register', undefined, { kind: 'bytes', bytes: '{}' }), 415],
      [{ ...post('/register', 'application/json', { kind: 'bytes', bytes: '{}' }), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }, 415],
      [post('/token', 'application/json; charset="UTF-8"', { kind: 'bytes', bytes: '{"username":"a@example.com"}' }), 400],
    ];
    for (const [request, status] of cases) {
      const res = await handler.handle(request);
      expect(res.status, `${JSON.stringify(request.headers)}: ${res.body}`).toBe(status);
    }
  });

  it('keeps repeated form fields as arrays (→ 422) and treats empty parameters as omitted', async () => {
    const handler = createAuthHandler(auth);
    const repeated = await handler.handle(post('/token', FORM, { kind: 'bytes', bytes: 'username=a&username=b&password=x' }));
    expect(repeated.status).toBe(422);
    const emptyGrant = await handler.handle(
      post('/token', FORM, { kind: 'bytes', bytes: `grant_type=&username=ada%40example.com&password=${encodeURIComponent(GOOD_PASSWORD)}` }),
    );
    expect(emptyGrant.status).toBe(200);
    const protoField = await handler.handle(post('/token', FORM, { kind: 'bytes', bytes: '__proto__=x&username=ada%40example.com' }));
    expect(protoField.status).toBe(400);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses credential parameters in the query string of any route', async () => {
    const handler = createAuthHandler(auth);
    for (const query of ['password=x', 'username=a', 'client_secret=s', 'refresh_token=r', 'access_token=t', 'PassWord=x']) {
      const res = await handler.handle({ method: 'GET', path: '/me', headers: {}, query });
      expect(res.status, query).toBe(400);
      expect(JSON.parse(res.body).error).toBe('invalid_request');
    }
    const harmless = await handler.handle({ method: 'GET', path: '/me', headers: {}, query: 'lang=en' });
    expect(harmless.status).toBe(401);
  });

  it('never rejects: an unexpected exception is 500 {"error":"server_error"} with the error attached', async () => {
    const broken = { ...auth, authenticate: async () => { throw new Error('SELECT secret FROM somewhere failed'); } } as Auth;
    const handler = createAuthHandler(broken);
    const res = await handler.handle({ method: 'GET', path: '/me', headers: { authorization: 'Bearer abc' } });
    expect(res.status).toBe(500);
    expect(res.body).toBe('{"error":"server_error"}');
    expect((res.error as Error).message).toMatch(/SELECT/);
    const stream = { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('socket hang up')) }) };
    const failing = await createAuthHandler(auth).handle(post('/register', 'application/json', { kind: 'stream', stream }));
    expect(failing.status).toBe(500);
    expect(failing.body).toBe('{"error":"server_error"}');
  });
});

describe('authenticateRequest', () => {
  it('accepts a Node header object or a Fetch Headers, and any case of the scheme', async () => {
    const { accessToken } = await auth.login({ username: 'ada@example.com', password: GOOD_PASSWORD });
    for (const headers of [{ authorization: `Bearer ${accessToken}` }, new Headers({ Authorization: `bearer   ${accessToken}` })]) {
      const result = await authenticateRequest(auth, headers);
      expect(result.ok && result.user.email).toBe('ada@example.com');
    }
  });

  it('tells missing credentials (bare challenge) from malformed ones (invalid_request)', async () => {
    const missing = await authenticateRequest(auth, {});
    expect(missing.ok).toBe(false);
    if (missing.ok) return;
    expect(missing.response.status).toBe(401);
    expect(missing.response.headers['WWW-Authenticate']).toBe('Bearer');
    for (const authorization of ['Basic x', 'Bearer', 'Bearer a b', ['Bearer a', 'Bearer b']]) {
      const result = await authenticateRequest(auth, { authorization });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.response.status).toBe(401);
      expect(result.response.headers['WWW-Authenticate']).toMatch(/^Bearer error="invalid_request", error_description="/);
    }
  });
});

describe('HTTP_ERRORS, the one table', () => {
  it('maps every code to a status and an error, and nothing internal leaks', () => {
    for (const [code, row] of Object.entries(HTTP_ERRORS)) {
      expect(row.status, code).toBeGreaterThanOrEqual(400);
      const res = errorResponse(code === 'server_error' || row.internal ? new AuthKitError(code as never, 'internal detail: /srv/db.sqlite') : new HttpProblem(code as never, 'safe message'));
      expect(res.status, code).toBe(row.status);
      if (row.internal) {
        expect(res.body).toBe('{"error":"server_error"}');
      } else {
        expect(JSON.parse(res.body).error).toBe(row.error);
      }
    }
  });

  it('maps the core codes as the issue says', () => {
    const cases: [AuthKitError, number, string][] = [
      [new AuthKitError('validation_failed', 'password: too short', { issues: [{ path: 'password', message: 'too short' }] }), 422, 'invalid_request'],
      [new AuthKitError('invalid_request', 'The username is required'), 400, 'invalid_request'],
      [new AuthKitError('email_already_registered', 'x'), 400, 'email_already_registered'],
      [new AuthKitError('invalid_credentials', 'x'), 401, 'invalid_grant'],
      [new AuthKitError('invalid_token', 'The access token expired', { reason: 'expired' }), 401, 'invalid_token'],
      [new AuthKitError('configuration_error', 'JWT_SECRET_KEY is short'), 500, 'server_error'],
    ];
    for (const [err, status, error] of cases) {
      const res = errorResponse(err);
      expect(res.status, err.code).toBe(status);
      expect(JSON.parse(res.body).error).toBe(error);
    }
    expect(JSON.parse(errorResponse(cases[0][0]).body).issues).toEqual([{ path: 'password', message: 'too short' }]);
    expect(errorResponse(new AuthKitError('invalid_credentials', 'anything')).body).toBe(
      '{"error":"invalid_grant","error_description":"Incorrect email or password"}',
    );
  });

  it('keeps the WWW-Authenticate description inside the RFC 6750 character set', () => {
    const res = errorResponse(new AuthKitError('invalid_token', 'The access token has a missing or wrong "sub" claim \\ ünïcode'));
    expect(res.headers['WWW-Authenticate']).toBe(
      `Bearer error="invalid_token", error_description="The access token has a missing or wrong 'sub' claim  ncode"`,
    );
  });

  it('adds Retry-After to a 429', () => {
    const res = errorResponse(new AuthKitError('too_many_attempts', 'Too many failed logins; try again later', { retryAfterSeconds: 12.2 }));
    expect(res.status).toBe(429);
    expect(res.headers['Retry-After']).toBe('13');
  });

  it('a thrown non-error value is a 500 too', async () => {
    const err = await caught(() => {
      throw 'a string';
    });
    expect(errorResponse(err).status).toBe(500);
  });
});
