import { randomBytes } from 'node:crypto';
import { type Algorithm, type Version, hash, verify } from '@node-rs/argon2';
import { AuthKitError } from './errors.js';
import { Semaphore } from './semaphore.js';

/** argon2id cost parameters. */
export interface Argon2Params {
  /** Memory in KiB. */
  readonly memoryCost: number;
  /** Iterations. */
  readonly timeCost: number;
  /** Lanes. */
  readonly parallelism: number;
}

/** The OWASP Password Storage Cheat Sheet rows for argon2id (m in KiB, t iterations). */
export const OWASP_ARGON2ID_MINIMUMS: readonly Readonly<{ memoryCost: number; timeCost: number }>[] = [
  { memoryCost: 47104, timeCost: 1 },
  { memoryCost: 19456, timeCost: 2 },
  { memoryCost: 12288, timeCost: 3 },
  { memoryCost: 9216, timeCost: 4 },
  { memoryCost: 7168, timeCost: 5 },
];

/** The default parameters: OWASP's m=19456 (19 MiB), t=2, p=1. */
export const DEFAULT_ARGON2_PARAMS: Argon2Params = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

/** Longest password accepted, in code points (S5). */
export const MAX_PASSWORD_CODE_POINTS = 1024;

/** Options of {@link createPasswordHasher}. */
export interface PasswordHasherOptions extends Partial<Argon2Params> {
  /** Hashes computed at once; further calls wait in a queue. Default 2. */
  readonly maxConcurrent?: number;
}

/**
 * argon2id hashing with fixed parameters and a cap on the hashes in flight. Create one per app
 * (`createAuth` does) so that the cap covers every caller.
 */
export interface PasswordHasher {
  /** The parameters new hashes are made with. */
  readonly params: Argon2Params;
  /** Hashes in flight now (at most `maxConcurrent`). */
  readonly inFlight: number;
  /** Calls waiting for a slot. */
  readonly queued: number;
  /** Hashes `password` (NFKC-normalised) into a PHC string with a fresh random salt. */
  hash(password: string): Promise<string>;
  /** True when `password` (NFKC-normalised) matches the PHC string `hashed`. A malformed hash gives false. */
  verify(hashed: string, password: string): Promise<boolean>;
  /** True when `hashed` was not made with this hasher's algorithm and parameters. */
  needsRehash(hashed: string): boolean;
  /** Runs one verify against a fixed dummy hash, so unknown accounts cost what known ones do (S10). */
  verifyDummy(password: string): Promise<void>;
}

/**
 * Throws `configuration_error` unless the parameters meet at least one OWASP argon2id row (S1).
 *
 * @example
 * ```ts
 * assertStrongArgon2Params({ memoryCost: 19456, timeCost: 2, parallelism: 1 }); // ok
 * ```
 */
export function assertStrongArgon2Params(params: Argon2Params): void {
  const { memoryCost, timeCost, parallelism } = params;
  for (const [name, value] of Object.entries(params)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new AuthKitError('configuration_error', `argon2 ${name} must be a positive whole number`);
    }
  }
  const strong = OWASP_ARGON2ID_MINIMUMS.some((row) => memoryCost >= row.memoryCost && timeCost >= row.timeCost);
  if (!strong || parallelism < 1) {
    throw new AuthKitError(
      'configuration_error',
      `argon2id parameters m=${memoryCost},t=${timeCost},p=${parallelism} are below the OWASP minimum ` +
        '(one of m=47104/t=1, m=19456/t=2, m=12288/t=3, m=9216/t=4, m=7168/t=5)',
    );
  }
}

/** NFKC-normalises a password (S4). Never trims, case-folds or truncates. */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length in code points, as the password policy counts it (S4). */
export function codePointLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}

const PHC = /^\$argon2(id|i|d)\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

/**
 * Creates a {@link PasswordHasher}. Parameters weaker than OWASP's argon2id rows are refused (S1).
 *
 * @example
 * ```ts
 * const hasher = createPasswordHasher({ maxConcurrent: 4 });
 * const stored = await hasher.hash('correct horse battery staple');
 * await hasher.verify(stored, 'correct horse battery staple'); // true
 * ```
 */
export function createPasswordHasher(options: PasswordHasherOptions = {}): PasswordHasher {
  const params: Argon2Params = Object.freeze({
    memoryCost: options.memoryCost ?? DEFAULT_ARGON2_PARAMS.memoryCost,
    timeCost: options.timeCost ?? DEFAULT_ARGON2_PARAMS.timeCost,
    parallelism: options.parallelism ?? DEFAULT_ARGON2_PARAMS.parallelism,
  });
  assertStrongArgon2Params(params);
  const maxConcurrent = options.maxConcurrent ?? 2;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new AuthKitError('configuration_error', 'maxConcurrent must be a positive whole number');
  }
  const gate = new Semaphore(maxConcurrent);
  // The package declares these as `const enum`s, which do not exist at run time: Argon2id = 2, V0x13 = 1.
  const argonOptions = { algorithm: 2 as Algorithm, version: 1 as Version, ...params };
  // A well-formed PHC string at the current parameters with a random salt and digest: verifying
  // against it costs exactly one argon2 run (no hash to precompute) and never succeeds (S10).
  const b64 = (n: number) => randomBytes(n).toString('base64').replace(/=+$/, '');
  const dummyHash = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$${b64(16)}$${b64(32)}`;

  const hasher: PasswordHasher = {
    params,
    get inFlight() {
      return gate.active;
    },
    get queued() {
      return gate.queued;
    },
    hash(password) {
      assertString(password);
      return gate.run(() => hash(normalizePassword(password), argonOptions));
    },
    async verify(hashed, password) {
      assertString(password);
      if (typeof hashed !== 'string' || !PHC.test(hashed)) return false;
      return gate.run(() => verify(hashed, normalizePassword(password)));
    },
    needsRehash(hashed) {
      const m = PHC.exec(hashed);
      if (!m) return true;
      return (
        m[1] !== 'id' ||
        m[2] !== '19' ||
        Number(m[3]) !== params.memoryCost ||
        Number(m[4]) !== params.timeCost ||
        Number(m[5]) !== params.parallelism
      );
    },
    async verifyDummy(password) {
      await hasher.verify(dummyHash, typeof password === 'string' ? password : '');
    },
  };
  return Object.freeze(hasher);
}

function assertString(password: unknown): asserts password is string {
  if (typeof password !== 'string') {
    throw new AuthKitError('validation_failed', 'Password must be a string', {
      issues: [{ path: 'password', message: 'Password must be a string' }],
    });
  }
}

let defaultHasher: PasswordHasher | undefined;
function getDefaultHasher(): PasswordHasher {
  defaultHasher ??= createPasswordHasher();
  return defaultHasher;
}

/**
 * Hashes a password with argon2id at the default OWASP parameters (m=19456, t=2, p=1), sharing
 * one process-wide in-flight cap. Use {@link createPasswordHasher} for other parameters.
 *
 * @example
 * ```ts
 * const phc = await hashPassword('correct horse battery staple'); // "$argon2id$v=19$m=19456,t=2,p=1$..."
 * ```
 */
export function hashPassword(password: string): Promise<string> {
  return getDefaultHasher().hash(password);
}

/**
 * Checks a password against a PHC string made by {@link hashPassword} (or any argon2 hash).
 *
 * @example
 * ```ts
 * if (await verifyPassword(stored, attempt)) { ... }
 * ```
 */
export function verifyPassword(hashed: string, password: string): Promise<boolean> {
  return getDefaultHasher().verify(hashed, password);
}

/**
 * True when `hashed` was made with other parameters than the defaults, so it should be replaced
 * by a fresh {@link hashPassword} after the next successful login.
 *
 * @example
 * ```ts
 * if (ok && needsRehash(stored)) stored = await hashPassword(attempt);
 * ```
 */
export function needsRehash(hashed: string): boolean {
  return getDefaultHasher().needsRehash(hashed);
}
