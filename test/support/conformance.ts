/**
 * The world a conformance case runs in, shared by test/conformance.test.ts and
 * test/http-sessions.test.ts: an app of one adapter over real sockets on 127.0.0.1, its auth
 * instance with a hand-moved clock and a password-reset outbox, and small request/assertion helpers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Auth, type AuthHttpOptions, type PasswordResetMessage, type SettingsInput, createAuth, migrate } from 'auth-kit';
import { ADAPTERS, type AdapterCase, type ParserMode, type RunningApp } from './adapters.js';
import { type TestDatabase, describeEachDialect, openSqlite } from './databases.js';
import { type FakeClock, GOOD_PASSWORD, fakeClock, newSecret } from './helpers.js';
import { FORM, JSON_TYPE, type RawResponse, form, request } from './http-client.js';

export interface World {
  readonly adapter: string;
  readonly app: RunningApp;
  readonly auth: Auth;
  readonly clock: FakeClock;
  readonly db: TestDatabase;
  /** Errors handed to `onError` (500s, and reset mails that failed). */
  readonly errors: unknown[];
  /** What the app's `sendPasswordResetEmail` received (absent when the world has no mailer). */
  readonly outbox: PasswordResetMessage[];
  /** Emails for which the mailer throws. */
  readonly failingMail: Set<string>;
  url(path: string): string;
  /** A fresh email, unique in this world. */
  email(tag?: string): string;
}

export interface WorldOptions {
  readonly parsers?: ParserMode;
  /** Settings besides the secret (e.g. `trustedProxies`). */
  readonly settings?: Partial<SettingsInput>;
  /** Give createAuth a `sendPasswordResetEmail` (default true). */
  readonly passwordReset?: boolean;
  /** HTTP options besides `onError` (e.g. `status`). */
  readonly http?: AuthHttpOptions;
  /** Share this clock (default: a new one at {@link CLOCK_START}). */
  readonly clock?: FakeClock;
}

let counter = 0;

export async function makeWorld(adapter: AdapterCase, t: TestDatabase, options: WorldOptions = {}): Promise<World> {
  await migrate(t.db);
  const clock = options.clock ?? fakeClock();
  const outbox: PasswordResetMessage[] = [];
  const failingMail = new Set<string>();
  const auth = createAuth({
    db: t.db,
    settings: { jwtSecretKey: newSecret(), ...options.settings },
    clock: clock.now,
    sendPasswordResetEmail:
      options.passwordReset === false
        ? undefined
        : (message) => {
            if (failingMail.has(message.user.email)) throw new Error('the mail relay refused the message');
            outbox.push(message);
          },
  });
  const errors: unknown[] = [];
  const app = await adapter.start(auth, { ...options.http, parsers: options.parsers ?? 'none', onError: (err) => errors.push(err) });
  return {
    adapter: adapter.name,
    app,
    auth,
    clock,
    db: t,
    errors,
    outbox,
    failingMail,
    url: (path) => `${app.url}${path}`,
    email: (tag = 'user') => `${tag}-${++counter}-${adapter.name}@example.com`,
  };
}

export function postJson(w: World, path: string, value: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(w.url(path), { method: 'POST', headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(value) });
}

export function postForm(w: World, path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(w.url(path), { method: 'POST', headers: { 'content-type': FORM, ...headers }, body: form(fields) });
}

export function getMe(w: World, authorization?: string | string[]): Promise<RawResponse> {
  return request(w.url('/auth/me'), { headers: authorization === undefined ? {} : { authorization } });
}

export async function registerUser(w: World, tag?: string): Promise<{ id: number; email: string; password: string }> {
  const email = w.email(tag);
  const res = await postJson(w, '/auth/register', { email, password: GOOD_PASSWORD });
  expect(res.status, res.body).toBe(201);
  return { id: res.json().id, email, password: GOOD_PASSWORD };
}

export async function tokenFor(w: World, email: string, password = GOOD_PASSWORD): Promise<string> {
  const res = await postForm(w, '/auth/token', { grant_type: 'password', username: email, password });
  expect(res.status, res.body).toBe(200);
  return res.json().access_token;
}

export function expectJsonHeaders(res: RawResponse): void {
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers.pragma).toBe('no-cache');
}

/** An OAuth-style error: status, `{error, error_description}` (+ optional keys), no-store. */
export function expectError(res: RawResponse, status: number, error: string, extraKeys: string[] = []): any {
  expect(res.status, res.body).toBe(status);
  expectJsonHeaders(res);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description', ...extraKeys].sort());
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
  expect(body.error_description.length).toBeGreaterThan(0);
  return body;
}

/** What the challenge of an invalid_token / invalid_request 401 must look like (RFC 6750 3). */
export function expectChallenge(res: RawResponse, error: 'invalid_token' | 'invalid_request'): void {
  const challenge = res.headers['www-authenticate'];
  expect(challenge).toMatch(new RegExp(`^Bearer error="${error}", error_description="[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]+"$`));
}

/** Headers that legitimately differ between two otherwise identical responses. */
const VOLATILE_HEADERS = new Set(['date']);

/** Status, raw headers in order (but `Date`) and body: what two "identical" responses share. */
export function comparable(res: RawResponse) {
  const headers: [string, string][] = [];
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    if (!VOLATILE_HEADERS.has(res.rawHeaders[i].toLowerCase())) headers.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
  }
  return { status: res.status, headers, body: res.body };
}

export const USER_KEYS = ['createdAt', 'email', 'fullName', 'id', 'isActive', 'updatedAt'];
export const CLOCK_START = '2030-01-01T00:00:00.000Z';

/** One conformance case. `core` cases also run on every dialect of the dialect loop. */
export interface Case {
  readonly name: string;
  readonly core?: boolean;
  run(w: World): Promise<void>;
}

/**
 * The conformance loops: every case against every adapter on SQLite in memory, then the `core`
 * cases against every adapter on every dialect. Each adapter's app is started once per loop; no
 * case may reach a 500 (the world records every error handed to the adapter).
 */
export function runConformance(title: string, cases: readonly Case[]): void {
  const run = (describeTitle: string, open: () => Promise<TestDatabase>, selected: readonly Case[], adapter: AdapterCase) =>
    describe(describeTitle, () => {
      let t: TestDatabase;
      let w: World;
      beforeAll(async () => {
        t = await open();
        w = await makeWorld(adapter, t);
      });
      afterAll(async () => {
        await w?.app.close();
        await t?.cleanup();
      });
      afterEach(() => {
        expect(w.errors).toEqual([]);
      });
      for (const c of selected) it(c.name, () => c.run(w));
    });
  for (const adapter of ADAPTERS) run(`${title} [${adapter.name}]`, async () => openSqlite('memory'), cases, adapter);
  describeEachDialect(`${title} core cases`, (dialect) => {
    for (const adapter of ADAPTERS) run(adapter.name, dialect.open, cases.filter((c) => c.core), adapter);
  });
}
