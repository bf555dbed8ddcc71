import { availableParallelism } from 'node:os';
import * as v from 'valibot';
import { parseTrustedProxies } from './client-address.js';
import { AuthKitError } from './errors.js';

/** The JWT signing algorithms auth-kit supports (HMAC with SHA-2). */
export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512';

/** The minimum HMAC key size, in bytes, per algorithm (RFC 7518 3.2: at least the hash size). */
export const MIN_SECRET_BYTES: Readonly<Record<JwtAlgorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** How to make a secret; repeated in every message about a weak one. */
const SECRET_HINT =
  'Generate one with `npx auth-kit secret` or ' +
  '`node -e "console.log(require(\'node:crypto\').randomBytes(32).toString(\'base64url\'))"`.';

/**
 * The resolved, validated settings of an auth-kit instance. Build it with {@link loadSettings}
 * (from environment variables) or {@link resolveSettings} (from an object).
 */
export interface Settings {
  /** HMAC secret for access tokens. Env: `JWT_SECRET_KEY` (required). */
  readonly jwtSecretKey: string;
  /** Env: `JWT_ALGORITHM`, default `HS256`. */
  readonly jwtAlgorithm: JwtAlgorithm;
  /** Access-token lifetime. Env: `JWT_ACCESS_TOKEN_EXPIRE_MINUTES`, default 30. */
  readonly accessTokenExpireMinutes: number;
  /** The `iss` claim written and required. Env: `JWT_ISSUER`, default `auth-kit`. */
  readonly jwtIssuer: string;
  /** The `aud` claim written and required. Env: `JWT_AUDIENCE`, default `auth-kit`. */
  readonly jwtAudience: string;
  /** The `client_id` claim (RFC 9068). Env: `JWT_CLIENT_ID`, default `auth-kit`. */
  readonly jwtClientId: string;
  /** Env: `DATABASE_URL`, default `sqlite:///./app.db`. */
  readonly databaseUrl: string;
  /** Minimum password length in code points. Env: `AUTH_PASSWORD_MIN_LENGTH`, default 8. */
  readonly passwordMinLength: number;
  /** argon2id memory in KiB. Env: `AUTH_ARGON2_MEMORY_COST`, default 19456. */
  readonly argon2MemoryCost: number;
  /** argon2id iterations. Env: `AUTH_ARGON2_TIME_COST`, default 2. */
  readonly argon2TimeCost: number;
  /** argon2id lanes. Env: `AUTH_ARGON2_PARALLELISM`, default 1. */
  readonly argon2Parallelism: number;
  /** Password hashes computed at once; more wait in a queue. Env: `AUTH_MAX_CONCURRENT_HASHES`, default: the CPU count + 1, at most the libuv pool size − 1. */
  readonly maxConcurrentHashes: number;
  /** Absolute lifetime of a session (refresh-token family); rotation does not extend it. Env: `JWT_REFRESH_TOKEN_EXPIRE_DAYS`, default 14. */
  readonly refreshTokenExpireDays: number;
  /** Lifetime of a password-reset token. Env: `AUTH_PASSWORD_RESET_EXPIRE_MINUTES`, default 60. */
  readonly passwordResetExpireMinutes: number;
  /**
   * Password-reset tokens an account may have outstanding (unused, unexpired); a request beyond it
   * mails nothing and is answered like any other, so nobody can flood a mailbox through
   * `requestPasswordReset`. 0 = no limit. Env: `AUTH_MAX_PASSWORD_RESETS_PER_ACCOUNT`, default 3.
   */
  readonly maxPasswordResetsPerAccount: number;
  /**
   * Failed logins per account within the lockout window before further attempts are refused
   * (`too_many_attempts`, with a growing delay). 0 disables this lockout (the cap of 100
   * consecutive failures stays). Env: `AUTH_MAX_FAILED_LOGINS`, default 5.
   */
  readonly maxFailedLogins: number;
  /** The lockout window, in minutes, and the longest delay. Env: `AUTH_LOCKOUT_WINDOW_MINUTES`, default 15. */
  readonly lockoutWindowMinutes: number;
  /** Failed logins per client address (IPv6: per /64) within the lockout window; 0 = off. Env: `AUTH_MAX_FAILED_LOGINS_PER_ADDRESS`, default 0. */
  readonly maxFailedLoginsPerAddress: number;
  /** Registrations per client address (IPv6: per /64) within the lockout window; 0 = off. Env: `AUTH_MAX_REGISTRATIONS_PER_ADDRESS`, default 0. */
  readonly maxRegistrationsPerAddress: number;
  /**
   * Proxies whose `X-Forwarded-For` is believed: addresses, CIDR ranges, or `loopback`,
   * `linklocal`, `uniquelocal`. Env: `AUTH_TRUSTED_PROXIES` (comma-separated), default none.
   */
  readonly trustedProxies: readonly string[];
}

/** What {@link resolveSettings} accepts: {@link Settings} with every field but the secret optional. */
export type SettingsInput = Partial<Settings> & { readonly jwtSecretKey: string };

/** The defaults applied to every field but `jwtSecretKey`. */
export const DEFAULT_SETTINGS: Omit<Settings, 'jwtSecretKey' | 'maxConcurrentHashes'> = Object.freeze({
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
  refreshTokenExpireDays: 14,
  passwordResetExpireMinutes: 60,
  maxPasswordResetsPerAccount: 3,
  maxFailedLogins: 5,
  lockoutWindowMinutes: 15,
  maxFailedLoginsPerAddress: 0,
  maxRegistrationsPerAddress: 0,
  trustedProxies: Object.freeze([]) as readonly string[],
});

/** Environment variable name for each setting, used in error messages and by {@link loadSettings}. */
const ENV_NAMES: Readonly<Record<keyof Settings, string>> = {
  jwtSecretKey: 'JWT_SECRET_KEY',
  jwtAlgorithm: 'JWT_ALGORITHM',
  accessTokenExpireMinutes: 'JWT_ACCESS_TOKEN_EXPIRE_MINUTES',
  jwtIssuer: 'JWT_ISSUER',
  jwtAudience: 'JWT_AUDIENCE',
  jwtClientId: 'JWT_CLIENT_ID',
  databaseUrl: 'DATABASE_URL',
  passwordMinLength: 'AUTH_PASSWORD_MIN_LENGTH',
  argon2MemoryCost: 'AUTH_ARGON2_MEMORY_COST',
  argon2TimeCost: 'AUTH_ARGON2_TIME_COST',
  argon2Parallelism: 'AUTH_ARGON2_PARALLELISM',
  maxConcurrentHashes: 'AUTH_MAX_CONCURRENT_HASHES',
  refreshTokenExpireDays: 'JWT_REFRESH_TOKEN_EXPIRE_DAYS',
  passwordResetExpireMinutes: 'AUTH_PASSWORD_RESET_EXPIRE_MINUTES',
  maxPasswordResetsPerAccount: 'AUTH_MAX_PASSWORD_RESETS_PER_ACCOUNT',
  maxFailedLogins: 'AUTH_MAX_FAILED_LOGINS',
  lockoutWindowMinutes: 'AUTH_LOCKOUT_WINDOW_MINUTES',
  maxFailedLoginsPerAddress: 'AUTH_MAX_FAILED_LOGINS_PER_ADDRESS',
  maxRegistrationsPerAddress: 'AUTH_MAX_REGISTRATIONS_PER_ADDRESS',
  trustedProxies: 'AUTH_TRUSTED_PROXIES',
};

const NUMERIC_KEYS = [
  'accessTokenExpireMinutes',
  'passwordMinLength',
  'argon2MemoryCost',
  'argon2TimeCost',
  'argon2Parallelism',
  'maxConcurrentHashes',
  'refreshTokenExpireDays',
  'passwordResetExpireMinutes',
  'maxPasswordResetsPerAccount',
  'maxFailedLogins',
  'lockoutWindowMinutes',
  'maxFailedLoginsPerAddress',
  'maxRegistrationsPerAddress',
] as const satisfies readonly (keyof Settings)[];

const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const text = v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'));

const SettingsSchema = v.object({
  jwtSecretKey: v.string('is required'),
  jwtAlgorithm: v.picklist(['HS256', 'HS384', 'HS512'], 'must be one of HS256, HS384, HS512'),
  accessTokenExpireMinutes: int(1, 60 * 24 * 365),
  jwtIssuer: text,
  jwtAudience: text,
  jwtClientId: text,
  databaseUrl: text,
  passwordMinLength: int(1, 1024),
  argon2MemoryCost: int(1024, 4 * 1024 * 1024),
  argon2TimeCost: int(1, 100),
  argon2Parallelism: int(1, 64),
  maxConcurrentHashes: int(1, 1024),
  refreshTokenExpireDays: int(1, 3650),
  passwordResetExpireMinutes: int(1, 60 * 24 * 7),
  maxPasswordResetsPerAccount: int(0, 1000),
  // More than 100 is pointless: 100 consecutive failures always lock (NIST SP 800-63B 5.2.2).
  maxFailedLogins: int(0, 100),
  lockoutWindowMinutes: int(1, 60 * 24),
  maxFailedLoginsPerAddress: int(0, 1_000_000),
  maxRegistrationsPerAddress: int(0, 1_000_000),
  trustedProxies: v.array(v.string()),
});

/**
 * The default cap on hashes in flight: one more than the CPU count, so that while a login does its
 * database work and signs its token on the main thread another hash keeps every core busy (on the
 * 2-CPU bench machine a third slot raised login throughput by about 14%; memory stays bounded by
 * cap × the argon2 memory). Always at most the libuv pool size − 1: jose's signing and
 * verification (and fs, dns) share that pool with argon2 and must never queue behind it.
 */
export function defaultMaxConcurrentHashes(
  cpus: number = availableParallelism(),
  threadPoolSize: number = Number(process.env.UV_THREADPOOL_SIZE) || 4,
): number {
  return Math.max(1, Math.min(cpus + 1, threadPoolSize - 1));
}

function configError(key: keyof Settings, problem: string): AuthKitError {
  return new AuthKitError('configuration_error', `${ENV_NAMES[key]} (${key}) ${problem}`);
}

/**
 * Validates a settings object and fills in the defaults. Throws `configuration_error` naming the
 * offending setting (and its environment variable), never its value.
 *
 * @example
 * ```ts
 * const settings = resolveSettings({ jwtSecretKey: process.env.JWT_SECRET_KEY!, accessTokenExpireMinutes: 15 });
 * ```
 */
export function resolveSettings(input: SettingsInput): Settings {
  if (input === null || typeof input !== 'object') {
    throw new AuthKitError('configuration_error', 'settings must be an object with at least jwtSecretKey');
  }
  const merged = {
    ...DEFAULT_SETTINGS,
    maxConcurrentHashes: defaultMaxConcurrentHashes(),
    ...Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)),
  };
  const result = v.safeParse(SettingsSchema, merged);
  if (!result.success) {
    const issue = result.issues[0];
    const key = (v.getDotPath(issue) ?? 'settings') as keyof Settings;
    // The issue message may quote the received value; say only what was expected.
    const problem = issue.expected ? `is invalid: expected ${issue.expected}` : `is invalid: ${issue.message}`;
    throw configError(key, key === 'jwtSecretKey' ? 'is required' : problem);
  }
  const settings = result.output as Settings;
  // Fails now, naming the bad entry, rather than at the first request behind the proxy.
  (settings as { trustedProxies: readonly string[] }).trustedProxies = Object.freeze(
    parseTrustedProxies(settings.trustedProxies).entries.slice(),
  );
  const secretBytes = Buffer.byteLength(settings.jwtSecretKey, 'utf8');
  const minBytes = MIN_SECRET_BYTES[settings.jwtAlgorithm];
  if (secretBytes < minBytes) {
    throw configError(
      'jwtSecretKey',
      `must be at least ${minBytes} bytes for ${settings.jwtAlgorithm} (it has ${secretBytes}). ${SECRET_HINT}`,
    );
  }
  return Object.freeze(settings);
}

/**
 * Reads the settings from environment variables (the reference project's names), validates them
 * and fills in the defaults. Throws `configuration_error` naming the variable and what is wrong,
 * never its value.
 *
 * | variable | default |
 * | --- | --- |
 * | `JWT_SECRET_KEY` | required, at least 32 bytes (48 for HS384, 64 for HS512) |
 * | `JWT_ALGORITHM` | `HS256` |
 * | `JWT_ACCESS_TOKEN_EXPIRE_MINUTES` | `30` |
 * | `JWT_ISSUER` / `JWT_AUDIENCE` / `JWT_CLIENT_ID` | `auth-kit` |
 * | `DATABASE_URL` | `sqlite:///./app.db` |
 * | `AUTH_PASSWORD_MIN_LENGTH` | `8` |
 * | `AUTH_ARGON2_MEMORY_COST` / `_TIME_COST` / `_PARALLELISM` | `19456` / `2` / `1` |
 * | `AUTH_MAX_CONCURRENT_HASHES` | the CPU count + 1, at most `UV_THREADPOOL_SIZE` − 1 (3) |
 * | `JWT_REFRESH_TOKEN_EXPIRE_DAYS` | `14` (absolute session lifetime) |
 * | `AUTH_PASSWORD_RESET_EXPIRE_MINUTES` | `60` |
 * | `AUTH_MAX_PASSWORD_RESETS_PER_ACCOUNT` | `3` outstanding reset tokens (0 = no limit) |
 * | `AUTH_MAX_FAILED_LOGINS` / `AUTH_LOCKOUT_WINDOW_MINUTES` | `5` / `15` (0 failures = no lockout) |
 * | `AUTH_MAX_FAILED_LOGINS_PER_ADDRESS` / `AUTH_MAX_REGISTRATIONS_PER_ADDRESS` | `0` (off) |
 * | `AUTH_TRUSTED_PROXIES` | none (comma-separated addresses, CIDR ranges, `loopback`…) |
 *
 * @example
 * ```ts
 * const settings = loadSettings(); // process.env
 * const auth = createAuth({ db, settings });
 * ```
 */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const input: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES) as [keyof Settings, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (key === 'trustedProxies') {
      input[key] = raw.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    } else if ((NUMERIC_KEYS as readonly string[]).includes(key)) {
      if (!/^\s*\d+\s*$/.test(raw)) throw configError(key, 'must be a whole number');
      input[key] = Number(raw);
    } else {
      input[key] = raw;
    }
  }
  if (input.jwtSecretKey === undefined) {
    throw configError('jwtSecretKey', `is required (at least 32 random bytes). ${SECRET_HINT}`);
  }
  return resolveSettings(input as SettingsInput);
}
