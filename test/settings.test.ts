/**
 * Settings: loadSettings(env) with the reference project's variable names, resolveSettings(object);
 * defaults, parsing, and errors that name the variable but never echo its value.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { AuthKitError, DEFAULT_SETTINGS, createTokenService, loadSettings, resolveSettings } from 'auth-kit';
import { defaultMaxConcurrentHashes } from '../src/config.js';
import { caught, expectAuthKitError, newSecret } from './support/helpers.js';

const SECRET = newSecret(64);

async function expectConfigError(build: () => unknown, variable: string, distinctive?: string): Promise<AuthKitError> {
  const err = await expectAuthKitError(build, 'configuration_error');
  expect(err.message).toContain(variable);
  if (distinctive !== undefined) {
    expect(err.message).not.toContain(distinctive);
    expect(JSON.stringify({ ...err, message: err.message, stack: undefined })).not.toContain(distinctive);
  }
  return err;
}

describe('loadSettings(env)', () => {
  it('fills in the defaults when only JWT_SECRET_KEY is set', () => {
    const s = loadSettings({ JWT_SECRET_KEY: SECRET });
    expect(s).toMatchObject({
      jwtSecretKey: SECRET,
      jwtAlgorithm: 'HS256',
      accessTokenExpireMinutes: 30,
      jwtIssuer: 'auth-kit',
      jwtAudience: 'auth-kit',
      jwtClientId: 'auth-kit',
      databaseUrl: 'sqlite:///./app.db',
      passwordMinLength: 8,
      argon2MemoryCost: 19456,
      argon2TimeCost: 2,
      argon2Parallelism: 1,
      maxConcurrentHashes: Math.max(1, Math.min(availableParallelism() + 1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1)),
    });
    expect(DEFAULT_SETTINGS).toMatchObject({ jwtAlgorithm: 'HS256', accessTokenExpireMinutes: 30, databaseUrl: 'sqlite:///./app.db' });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('parses each variable', () => {
    const s = loadSettings({
      JWT_SECRET_KEY: SECRET,
      JWT_ALGORITHM: 'HS512',
      JWT_ACCESS_TOKEN_EXPIRE_MINUTES: ' 15 ',
      JWT_ISSUER: 'https://id.example',
      JWT_AUDIENCE: 'api://orders',
      JWT_CLIENT_ID: 'shop',
      DATABASE_URL: 'postgres://app@db.internal:5432/app',
      AUTH_PASSWORD_MIN_LENGTH: '15',
      AUTH_ARGON2_MEMORY_COST: '47104',
      AUTH_ARGON2_TIME_COST: '3',
      AUTH_ARGON2_PARALLELISM: '2',
      AUTH_MAX_CONCURRENT_HASHES: '4',
    });
    expect(s).toMatchObject({
      jwtAlgorithm: 'HS512',
      accessTokenExpireMinutes: 15,
      jwtIssuer: 'https://id.example',
      jwtAudience: 'api://orders',
      jwtClientId: 'shop',
      databaseUrl: 'postgres://app@db.internal:5432/app',
      passwordMinLength: 15,
      argon2MemoryCost: 47104,
      argon2TimeCost: 3,
      argon2Parallelism: 2,
      maxConcurrentHashes: 4,
    });
    for (const alg of ['HS256', 'HS384'] as const) expect(loadSettings({ JWT_SECRET_KEY: SECRET, JWT_ALGORITHM: alg }).jwtAlgorithm).toBe(alg);
  });

  it('treats an empty variable as unset', () => {
    const s = loadSettings({ JWT_SECRET_KEY: SECRET, JWT_ALGORITHM: '', JWT_ACCESS_TOKEN_EXPIRE_MINUTES: '', DATABASE_URL: '' });
    expect(s).toMatchObject({ jwtAlgorithm: 'HS256', accessTokenExpireMinutes: 30, databaseUrl: 'sqlite:///./app.db' });
  });

  it('reads process.env by default', () => {
    const saved = { ...process.env };
    try {
      process.env.JWT_SECRET_KEY = SECRET;
      process.env.JWT_ACCESS_TOKEN_EXPIRE_MINUTES = '7';
      expect(loadSettings().accessTokenExpireMinutes).toBe(7);
    } finally {
      for (const key of ['JWT_SECRET_KEY', 'JWT_ACCESS_TOKEN_EXPIRE_MINUTES']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it('a missing JWT_SECRET_KEY is named, with how to make one', async () => {
    const err = await expectConfigError(() => loadSettings({}), 'JWT_SECRET_KEY');
    expect(err.message).toMatch(/randomBytes\(32\)|npx auth-kit secret/);
  });

  it('a short secret is refused without echoing it', async () => {
    const distinctive = 'Distinctive-Secret-Value-31b!!!';
    expect(Buffer.byteLength(distinctive)).toBe(31);
    const err = await expectConfigError(() => loadSettings({ JWT_SECRET_KEY: distinctive }), 'JWT_SECRET_KEY', distinctive);
    expect(err.message).toMatch(/32 bytes/);
  });

  it('an unknown algorithm is refused, naming JWT_ALGORITHM and the allowed values, not the value', async () => {
    for (const bad of ['RS256-distinctive', 'none', 'hs256', 'HS256 ', 'ES256K-xyz']) {
      const err = await expectConfigError(() => loadSettings({ JWT_SECRET_KEY: SECRET, JWT_ALGORITHM: bad }), 'JWT_ALGORITHM', bad.length > 5 ? bad : undefined);
      expect(err.message).toMatch(/HS256/);
      expect(err.message).toMatch(/HS512/);
    }
  });

  const numeric = [
    'JWT_ACCESS_TOKEN_EXPIRE_MINUTES',
    'AUTH_PASSWORD_MIN_LENGTH',
    'AUTH_ARGON2_MEMORY_COST',
    'AUTH_ARGON2_TIME_COST',
    'AUTH_ARGON2_PARALLELISM',
    'AUTH_MAX_CONCURRENT_HASHES',
  ];
  it.each(numeric)('%s: non-numeric values are refused, naming the variable, never the value', async (name) => {
    for (const bad of ['thirty-distinctive', '30m-distinctive', '1e3', '-5', '1.5', '0x1F', 'Infinity']) {
      const err = await expectConfigError(() => loadSettings({ JWT_SECRET_KEY: SECRET, [name]: bad }), name, bad);
      expect(err.message).toMatch(/whole number/);
    }
  });

  it.each(numeric)('%s: out-of-range numbers are refused, naming the variable, never the value', async (name) => {
    await expectConfigError(() => loadSettings({ JWT_SECRET_KEY: SECRET, [name]: '987654321987' }), name, '987654321987');
  });

  it('zero minutes, an empty issuer, audience or client id are refused', async () => {
    await expectConfigError(() => loadSettings({ JWT_SECRET_KEY: SECRET, JWT_ACCESS_TOKEN_EXPIRE_MINUTES: '0' }), 'JWT_ACCESS_TOKEN_EXPIRE_MINUTES');
    for (const name of ['JWT_ISSUER', 'JWT_AUDIENCE', 'JWT_CLIENT_ID']) {
      await expectConfigError(() => loadSettings({ JWT_SECRET_KEY: SECRET, [name]: '   ' }), name);
    }
  });

  it('a bad value never appears in the error, whatever the variable', async () => {
    const marker = 'postgres://user:hunter2-distinctive@host/db';
    for (const name of ['JWT_ALGORITHM', 'JWT_ACCESS_TOKEN_EXPIRE_MINUTES', 'AUTH_ARGON2_MEMORY_COST']) {
      const err = await caught(() => loadSettings({ JWT_SECRET_KEY: SECRET, [name]: marker }));
      expect(String(err)).not.toContain('hunter2');
      expect((err as Error).stack ?? '').not.toContain('hunter2');
    }
  });
});

describe('resolveSettings(object)', () => {
  it('fills defaults, ignores undefined values and returns a frozen object', () => {
    const s = resolveSettings({ jwtSecretKey: SECRET, jwtAlgorithm: undefined, accessTokenExpireMinutes: 5 });
    expect(s).toMatchObject({ jwtSecretKey: SECRET, jwtAlgorithm: 'HS256', accessTokenExpireMinutes: 5, jwtIssuer: 'auth-kit' });
    expect(Object.isFrozen(s)).toBe(true);
    // Resolving resolved settings changes nothing (createAuth and createTokenService do this).
    expect(resolveSettings(s)).toEqual(s);
    expect(createTokenService(s).expiresIn).toBe(300);
  });

  it('refuses wrong types and values, naming the setting and its variable, not the value', async () => {
    await expectConfigError(() => resolveSettings({ jwtSecretKey: SECRET, accessTokenExpireMinutes: '30' as unknown as number }), 'accessTokenExpireMinutes');
    await expectConfigError(() => resolveSettings({ jwtSecretKey: SECRET, accessTokenExpireMinutes: 2.5 }), 'JWT_ACCESS_TOKEN_EXPIRE_MINUTES');
    await expectConfigError(() => resolveSettings({ jwtSecretKey: SECRET, jwtAlgorithm: 'RS256' as never }), 'jwtAlgorithm');
    await expectConfigError(
      () => resolveSettings({ jwtSecretKey: SECRET, jwtIssuer: 'x'.repeat(0) }),
      'JWT_ISSUER',
    );
    await expectConfigError(() => resolveSettings({ jwtSecretKey: 123456789012345 as unknown as string }), 'jwtSecretKey', '123456789012345');
    await expectConfigError(() => resolveSettings({ jwtSecretKey: SECRET, passwordMinLength: 0 }), 'passwordMinLength');
    await expectConfigError(() => resolveSettings({ jwtSecretKey: SECRET, maxConcurrentHashes: 0 }), 'maxConcurrentHashes');
  });

  it('refuses something that is not an object', async () => {
    for (const bad of [null, undefined, 'JWT_SECRET_KEY=abc', 42]) {
      await expectAuthKitError(() => resolveSettings(bad as never), 'configuration_error');
    }
  });
});

describe('the default cap on hashes in flight', () => {
  it('is one more than the CPU count, but leaves one libuv thread free and is at least 1', () => {
    expect(defaultMaxConcurrentHashes(1, 4)).toBe(2);
    expect(defaultMaxConcurrentHashes(2, 4)).toBe(3);
    expect(defaultMaxConcurrentHashes(8, 4)).toBe(3);
    expect(defaultMaxConcurrentHashes(8, 16)).toBe(9);
    expect(defaultMaxConcurrentHashes(2, 2)).toBe(1);
    expect(defaultMaxConcurrentHashes(4, 1)).toBe(1);
  });
});
