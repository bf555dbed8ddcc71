/**
 * Passwords: argon2id PHC strings and the OWASP floor (S1), salting (S2), needsRehash (S3; the
 * login upgrade itself is in auth-flows.test.ts), NFKC and no trimming/folding/truncation (S4),
 * the length and common-password policy before any hashing (S5), no coercion (S6), the in-flight
 * cap (S8). Real argon2 throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_ARGON2_PARAMS,
  MAX_PASSWORD_CODE_POINTS,
  createAuth,
  createPasswordHasher,
  createUserService,
  hashPassword,
  migrate,
  needsRehash,
  verifyPassword,
  type PasswordHasher,
  type UserService,
} from 'auth-kit';
import { openSqlite, type TestDatabase } from './support/databases.js';
import { GOOD_PASSWORD, caught, expectAuthKitError, newSecret, tick } from './support/helpers.js';

const PHC_DEFAULT = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
const b64len = (s: string) => Buffer.from(s, 'base64').length;

describe('argon2id hashes (S1, S2)', () => {
  const hasher = createPasswordHasher({ maxConcurrent: 2 });

  it('are PHC strings with the OWASP default parameters, a 16+ byte salt and a 32-byte hash', async () => {
    expect(hasher.params).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(DEFAULT_ARGON2_PARAMS).toEqual(hasher.params);
    for (const phc of [await hasher.hash(GOOD_PASSWORD), await hashPassword(GOOD_PASSWORD)]) {
      const m = PHC_DEFAULT.exec(phc);
      expect(m, phc.slice(0, 32)).not.toBeNull();
      expect(b64len(m![1])).toBeGreaterThanOrEqual(16);
      expect(b64len(m![2])).toBe(32);
      expect(phc).not.toContain(GOOD_PASSWORD);
      expect(await verifyPassword(phc, GOOD_PASSWORD)).toBe(true);
      expect(needsRehash(phc)).toBe(false);
    }
  });

  it('the same password twice gives different hashes, both verifying (S2)', async () => {
    const [a, b] = await Promise.all([hasher.hash(GOOD_PASSWORD), hasher.hash(GOOD_PASSWORD)]);
    expect(a).not.toBe(b);
    expect(a.split('$')[4]).not.toBe(b.split('$')[4]);
    expect(await hasher.verify(a, GOOD_PASSWORD)).toBe(true);
    expect(await hasher.verify(b, GOOD_PASSWORD)).toBe(true);
    expect(await hasher.verify(a, `${GOOD_PASSWORD}!`)).toBe(false);
  });

  it('verify returns false, never throws, for a malformed or foreign stored hash', async () => {
    for (const stored of ['', 'garbage', '$argon2id$v=19$m=19456,t=2,p=1$abc', '$2b$12$abcdefghijklmnopqrstuv', null, 42]) {
      expect(await hasher.verify(stored as string, GOOD_PASSWORD)).toBe(false);
    }
  });

  const weak = [
    { memoryCost: 19455, timeCost: 2 },
    { memoryCost: 19456, timeCost: 1 },
    { memoryCost: 47103, timeCost: 1 },
    { memoryCost: 12287, timeCost: 3 },
    { memoryCost: 9215, timeCost: 4 },
    { memoryCost: 7167, timeCost: 5 },
    { memoryCost: 4096, timeCost: 3 }, // @node-rs/argon2's own defaults
    { memoryCost: 7167, timeCost: 100 },
    { memoryCost: 65536, timeCost: 0 },
    { memoryCost: 19456, timeCost: 2, parallelism: 0 },
    { memoryCost: 19456, timeCost: 2, parallelism: -1 },
    { memoryCost: 19456.5, timeCost: 2 },
    { memoryCost: Number.NaN, timeCost: 2 },
    { memoryCost: 19456, timeCost: 2.5 },
  ];
  it.each(weak)('refuses weaker parameters at construction: %o', (params) => {
    let err: unknown;
    try {
      createPasswordHasher(params);
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string })?.code).toBe('configuration_error');
  });

  const strong = [
    { memoryCost: 19456, timeCost: 2 },
    { memoryCost: 47104, timeCost: 1 },
    { memoryCost: 12288, timeCost: 3 },
    { memoryCost: 9216, timeCost: 4 },
    { memoryCost: 7168, timeCost: 5 },
    { memoryCost: 65536, timeCost: 3, parallelism: 4 },
    { memoryCost: 19456, timeCost: 2, parallelism: 2 },
  ];
  it.each(strong)('accepts each OWASP row and stronger: %o', (params) => {
    const h = createPasswordHasher(params);
    expect(h.params).toMatchObject(params);
  });

  it('the message of a refusal lists the OWASP rows; a bad in-flight cap is refused too', async () => {
    const err = await expectAuthKitError(() => createPasswordHasher({ memoryCost: 19455 }), 'configuration_error');
    expect(err.message).toMatch(/m=19456\/t=2/);
    expect(err.message).toMatch(/m=47104\/t=1/);
    for (const maxConcurrent of [0, -1, 1.5]) {
      await expectAuthKitError(() => createPasswordHasher({ maxConcurrent }), 'configuration_error');
    }
  });

  it('createAuth refuses weak argon2 settings at construction, before any request', async () => {
    const t = openSqlite('memory');
    try {
      for (const weakSettings of [{ argon2MemoryCost: 19455 }, { argon2TimeCost: 1 }, { argon2MemoryCost: 4096, argon2TimeCost: 3 }]) {
        await expectAuthKitError(
          () => createAuth({ db: t.db, settings: { jwtSecretKey: newSecret(), ...weakSettings } }),
          'configuration_error',
        );
      }
      expect(createAuth({ db: t.db, settings: { jwtSecretKey: newSecret(), argon2MemoryCost: 47104, argon2TimeCost: 1 } }).passwords.params)
        .toEqual({ memoryCost: 47104, timeCost: 1, parallelism: 1 });
    } finally {
      await t.cleanup();
    }
  });
});

describe('needsRehash (S3)', () => {
  it('is false for the current parameters and true for any other parameters or algorithm', async () => {
    const current = createPasswordHasher();
    const stronger = createPasswordHasher({ memoryCost: 47104, timeCost: 1 });
    const moreTime = createPasswordHasher({ timeCost: 3 });
    const [mine, fromStronger, fromMoreTime] = await Promise.all([
      current.hash(GOOD_PASSWORD),
      stronger.hash(GOOD_PASSWORD),
      moreTime.hash(GOOD_PASSWORD),
    ]);
    expect(fromStronger).toMatch(/^\$argon2id\$v=19\$m=47104,t=1,p=1\$/);
    expect(current.needsRehash(mine)).toBe(false);
    expect(current.needsRehash(fromStronger)).toBe(true);
    expect(current.needsRehash(fromMoreTime)).toBe(true);
    expect(stronger.needsRehash(fromStronger)).toBe(false);
    expect(stronger.needsRehash(mine)).toBe(true);
    expect(current.needsRehash(mine.replace('$argon2id$', '$argon2i$'))).toBe(true);
    expect(current.needsRehash(mine.replace('$v=19$', '$v=16$'))).toBe(true);
    expect(current.needsRehash('garbage')).toBe(true);
    // Old hashes still verify: the parameters travel inside the PHC string.
    expect(await current.verify(fromStronger, GOOD_PASSWORD)).toBe(true);
    expect(await current.verify(fromMoreTime, GOOD_PASSWORD)).toBe(true);
    expect(await current.verify(fromStronger, 'not the password')).toBe(false);
  });
});

describe('normalisation (S4)', () => {
  const hasher = createPasswordHasher({ maxConcurrent: 2 });

  it('NFKC: ligatures, full-width digits and composed/decomposed accents are the same password', async () => {
    const pairs: [string, string][] = [
      ['\uFB01nancial-plan-2030', 'financial-plan-2030'], // "ﬁ" ligature
      ['pass\uFF11\uFF12\uFF13\uFF14word', 'pass1234word'], // full-width digits
      ['caf\u00E9-au-lait-77', 'cafe\u0301-au-lait-77'], // é precomposed vs e + combining acute
    ];
    for (const [a, b] of pairs) {
      const stored = await hasher.hash(a);
      expect(await hasher.verify(stored, b)).toBe(true);
      const reverse = await hasher.hash(b);
      expect(await hasher.verify(reverse, a)).toBe(true);
    }
  });

  it('never trims, never case-folds', async () => {
    const stored = await hasher.hash('Secret-Pass 42');
    for (const other of [' Secret-Pass 42', 'Secret-Pass 42 ', 'Secret-Pass 42\n', 'secret-pass 42', 'SECRET-PASS 42', 'Secret-Pass  42']) {
      expect(await hasher.verify(stored, other), JSON.stringify(other)).toBe(false);
    }
    expect(await hasher.verify(stored, 'Secret-Pass 42')).toBe(true);
    const padded = await hasher.hash('  padded-secret  ');
    expect(await hasher.verify(padded, 'padded-secret')).toBe(false);
    expect(await hasher.verify(padded, '  padded-secret  ')).toBe(true);
  });

  it('never truncates: P + "x" fails, also past 72 bytes and near 1024 code points', async () => {
    const short = 'a-short-secret';
    const p72 = `${'x'.repeat(72)}A`;
    const long = `${'k'.repeat(MAX_PASSWORD_CODE_POINTS - 2)}yz`;
    for (const p of [short, p72, long]) {
      const stored = await hasher.hash(p);
      expect(await hasher.verify(stored, p)).toBe(true);
      expect(await hasher.verify(stored, `${p}x`)).toBe(false);
      expect(await hasher.verify(stored, p.slice(0, -1))).toBe(false);
      expect(await hasher.verify(stored, `${p.slice(0, -1)}Z`)).toBe(false);
    }
  });

  it('emoji passwords round-trip; a different modifier is a different password', async () => {
    const p = '\u{1F600}\u{1F44D}\u{1F3FD}\u{1F680}\u{1F30D}\u{1F511}\u{1F512}\u{1F4A1}\u{1F308}';
    const stored = await hasher.hash(p);
    expect(await hasher.verify(stored, p)).toBe(true);
    expect(await hasher.verify(stored, p.replace('\u{1F3FD}', '\u{1F3FF}'))).toBe(false);
  });
});

describe('password policy (S5, S6) before any hashing', () => {
  let t: TestDatabase;
  // One slot, kept busy by a hash the test starts: a call that reached the hasher would queue.
  let hasher: PasswordHasher;
  let users: UserService;
  beforeAll(async () => {
    t = openSqlite('memory');
    await migrate(t.db);
    hasher = createPasswordHasher({ maxConcurrent: 1 });
    users = createUserService(t.db, { passwords: hasher });
  });
  afterAll(async () => {
    await t.cleanup();
  });

  let n = 0;
  const email = () => `user${++n}@example.com`;

  /**
   * Runs `action` while the only hashing slot is busy and asserts it failed with
   * validation_failed on `password` before reaching the hasher: nothing queued, and it settled
   * before the busy hash did (had it waited for a slot, the busy hash would settle first).
   */
  async function rejectedBeforeHashing(action: () => Promise<unknown>): Promise<void> {
    const busy = hasher.hash('occupy-the-only-slot');
    expect(hasher.inFlight).toBe(1);
    const attempt = action();
    expect(hasher.queued).toBe(0);
    const first = await Promise.race([attempt.then(() => 'succeeded', (e: unknown) => e), busy.then(() => 'busy hash finished first')]);
    expect(hasher.queued).toBe(0);
    expect(first).toMatchObject({ name: 'AuthKitError', code: 'validation_failed' });
    expect((first as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(['password']);
    await busy;
    await caught(attempt);
  }

  it('minimum 8 code points by default: 7 refused, 8 accepted', async () => {
    await rejectedBeforeHashing(() => users.createUser({ email: email(), password: 'tq8-vlm' }));
    const ok = await users.createUser({ email: email(), password: 'tq8-vlmz' });
    expect(ok.isActive).toBe(true);
  });

  it('the minimum is configurable (policy and AUTH_PASSWORD_MIN_LENGTH)', async () => {
    const strict = createUserService(t.db, { passwords: hasher, passwordPolicy: { minLength: 15 } });
    const err = await expectAuthKitError(strict.createUser({ email: email(), password: 'fourteen-chars' }), 'validation_failed');
    expect(err.message).toMatch(/at least 15/);
    await strict.createUser({ email: email(), password: 'fifteen--chars!' });
    const auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret(), passwordMinLength: 12 } });
    await expectAuthKitError(auth.register({ email: email(), password: 'eleven-char' }), 'validation_failed');
    await auth.register({ email: email(), password: 'twelve-chars' });
  });

  it('length counts code points (of the NFKC form), not UTF-16 units', async () => {
    const smile = '\u{1F600}';
    expect(smile.repeat(7).length).toBe(14);
    await rejectedBeforeHashing(() => users.createUser({ email: email(), password: smile.repeat(7) }));
    await users.createUser({ email: email(), password: smile.repeat(8) });
    // "e" + combining acute is one code point after NFKC: 7 of them are 7 characters.
    await rejectedBeforeHashing(() => users.createUser({ email: email(), password: 'e\u0301'.repeat(7) }));
    // 1024 emoji = 2048 UTF-16 units, still within the maximum.
    await users.createUser({ email: email(), password: smile.repeat(MAX_PASSWORD_CODE_POINTS) });
    await rejectedBeforeHashing(() => users.createUser({ email: email(), password: smile.repeat(MAX_PASSWORD_CODE_POINTS + 1) }));
  });

  it('maximum 1024 code points: 1024 accepted, 1025 refused before hashing with a clear message', async () => {
    await users.createUser({ email: email(), password: 'q'.repeat(MAX_PASSWORD_CODE_POINTS) });
    const err = await expectAuthKitError(
      users.createUser({ email: email(), password: 'q'.repeat(MAX_PASSWORD_CODE_POINTS + 1) }),
      'validation_failed',
    );
    expect(err.message).toMatch(/at most 1024/);
    expect(err.message).not.toContain('qqqq');
    await rejectedBeforeHashing(() => users.createUser({ email: email(), password: 'q'.repeat(MAX_PASSWORD_CODE_POINTS + 1) }));
    await rejectedBeforeHashing(() => users.createUser({ email: email(), password: 'q'.repeat(1_000_000) }));
    const someone = await users.createUser({ email: email(), password: GOOD_PASSWORD });
    await rejectedBeforeHashing(() => users.updateUser(someone.id, { password: 'q'.repeat(MAX_PASSWORD_CODE_POINTS + 1) }));
  });

  it('refuses common passwords, case-insensitively and after NFKC, before hashing', async () => {
    for (const common of ['password123', 'PASSWORD123', 'PassWord123', 'Qwertyuiop', '12345678', '\uFF50\uFF41\uFF53\uFF53\uFF57\uFF4F\uFF52\uFF44\uFF11\uFF12\uFF13']) {
      await rejectedBeforeHashing(() => users.createUser({ email: email(), password: common }));
    }
    const err = await expectAuthKitError(users.createUser({ email: email(), password: 'Password123' }), 'validation_failed');
    expect(err.message).toMatch(/common/);
    expect(err.message).not.toContain('Password123');
  });

  it('refuses non-string passwords for createUser, updateUser and the hasher, never coercing (S6)', async () => {
    // 73829104561 would be a valid password if it were turned into a string.
    const values: unknown[] = [73829104561, ['correct', 'horse', 'battery'], { toString: () => GOOD_PASSWORD }, null, true, undefined];
    const before = await users.countUsers();
    for (const password of values) {
      await rejectedBeforeHashing(() => users.createUser({ email: email(), password: password as string }));
    }
    const someone = await users.createUser({ email: email(), password: GOOD_PASSWORD });
    for (const password of values.slice(0, 5)) {
      await rejectedBeforeHashing(() => users.updateUser(someone.id, { password: password as string }));
    }
    await expectAuthKitError(() => hasher.hash(73829104561 as unknown as string), 'validation_failed');
    const stored = await hasher.hash('73829104561');
    await expectAuthKitError(() => hasher.verify(stored, 73829104561 as unknown as string), 'validation_failed');
    expect(await users.countUsers()).toBe(before + 1);
  });

  it('refuses non-string passwords for register and login too (S6)', async () => {
    const auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret(), maxConcurrentHashes: 1 } });
    const victim = email();
    await auth.register({ email: victim, password: '73829104561' });
    for (const password of [73829104561, ['73829104561'], { p: '73829104561' }, true]) {
      const r = await expectAuthKitError(auth.register({ email: email(), password: password as unknown as string }), 'validation_failed');
      expect(r.issues.map((i) => i.path)).toEqual(['password']);
      const l = await expectAuthKitError(auth.login({ username: victim, password: password as unknown as string }), 'validation_failed');
      expect(l.message).not.toContain('73829104561');
    }
    await expectAuthKitError(auth.register({ email: email(), password: null as unknown as string }), 'validation_failed');
    await expectAuthKitError(auth.login({ username: victim, password: null as unknown as string }), 'invalid_request');
    // The real string still works.
    expect((await auth.login({ username: victim, password: '73829104561' })).tokenType).toBe('bearer');
  });
});

describe('the in-flight cap (S8)', () => {
  it('50 concurrent hashes and verifies on a cap of 3: never more than 3 in flight, the queue drains', async () => {
    const hasher = createPasswordHasher({ maxConcurrent: 3 });
    const stored = await hasher.hash(GOOD_PASSWORD);
    let maxInFlight = 0;
    let maxQueued = 0;
    let ticksWhileBusy = 0;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        maxInFlight = Math.max(maxInFlight, hasher.inFlight);
        maxQueued = Math.max(maxQueued, hasher.queued);
        if (hasher.inFlight > 0) ticksWhileBusy++;
        await tick();
      }
    })();
    const work = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0 ? hasher.hash(`${GOOD_PASSWORD}-${i}`) : hasher.verify(stored, i % 4 === 1 ? GOOD_PASSWORD : 'wrong-password'),
    );
    // Straight after the burst: three running, the rest waiting.
    expect(hasher.inFlight).toBe(3);
    expect(hasher.queued).toBe(47);
    const results = await Promise.all(work);
    done = true;
    await sampler;
    expect(maxInFlight).toBe(3);
    expect(maxQueued).toBe(47);
    expect(hasher.inFlight).toBe(0);
    expect(hasher.queued).toBe(0);
    // Hashing ran off the event loop: the sampler kept running while hashes were in flight.
    expect(ticksWhileBusy).toBeGreaterThan(10);
    const hashes = results.filter((r): r is string => typeof r === 'string');
    expect(hashes.length).toBe(25);
    expect(new Set(hashes).size).toBe(25);
    hashes.forEach((h) => expect(h).toMatch(PHC_DEFAULT));
    const verdicts = results.filter((r) => typeof r === 'boolean');
    expect(verdicts).toEqual(Array.from({ length: 25 }, (_, k) => (2 * k + 1) % 4 === 1));
  });

  it('a failing hash still frees its slot', async () => {
    const hasher = createPasswordHasher({ maxConcurrent: 1 });
    // A malformed but PHC-shaped hash makes the native verify reject or return false; either way the slot comes back.
    const bogus = '$argon2id$v=19$m=19456,t=2,p=1$AAAA$AAAA';
    expect(await hasher.verify(bogus, GOOD_PASSWORD).catch(() => false)).toBe(false);
    expect(hasher.inFlight).toBe(0);
    expect(await hasher.verify(await hasher.hash(GOOD_PASSWORD), GOOD_PASSWORD)).toBe(true);
    expect(hasher.inFlight).toBe(0);
  });
});
