/**
 * Opening the database for a command: which URL, whether it can be reached (and why not, with
 * the password masked), whether auth-kit's tables are there. Also the password hasher the user
 * commands use, configured from the same environment variables as the app.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import {
  type PasswordHasher,
  type PasswordPolicy,
  createPasswordHasher,
  getMigrationStatus,
  loadSettings,
  maskDatabaseUrl,
  openDatabase,
  parseDatabaseUrl,
} from 'auth-kit';
import { CliError, type Io, reasonOf, secretsOfUrl } from './command.js';

/** The default when neither `--database-url` nor `DATABASE_URL` is given. */
export const DEFAULT_DATABASE_URL = 'sqlite:///./app.db';

/** How long to wait for the database to answer the first query. */
const CONNECT_TIMEOUT_MS = 10_000;

export interface OpenedDatabase {
  readonly db: Kysely<any>;
  /** The URL with any password masked, for messages. */
  readonly label: string;
  /** For SQLite files: the path, and whether the file existed before this command. */
  readonly sqliteFile: { readonly path: string; readonly existed: boolean } | null;
}

/** The URL a command uses: `--database-url`, then `DATABASE_URL`, then the SQLite default. */
export function databaseUrlOf(flag: string | undefined, env: Io['env']): string {
  return flag ?? (env.DATABASE_URL || DEFAULT_DATABASE_URL);
}

/** Masks a URL for messages: the password in the user-info and in `?password=`. */
export function labelOf(url: string): string {
  let label = maskDatabaseUrl(url);
  for (const secret of secretsOfUrl(url)) label = label.split(secret).join('***');
  return label;
}

function timeout(ms: number): { promise: Promise<never>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

export interface OpenOptions {
  /**
   * `create`: a missing SQLite file is created (seed, migrate). `existing`: a missing SQLite file
   * is an error telling how to create one (user commands). `peek`: a missing file is not opened
   * at all and `null` is returned (migrate --status, which must not change anything).
   */
  readonly missingFile: 'create' | 'existing' | 'peek';
}

/**
 * Opens the database and checks that it answers. Every failure is a one-line {@link CliError}
 * naming the masked URL and the reason.
 */
export async function openCommandDatabase(
  url: string,
  io: Io,
  options: OpenOptions,
): Promise<OpenedDatabase | null> {
  const label = labelOf(url);
  let target;
  try {
    target = parseDatabaseUrl(url);
  } catch (err) {
    throw new CliError(`${(err as Error).message}. Pass --database-url or set DATABASE_URL`, 1, { cause: err });
  }
  let sqliteFile: OpenedDatabase['sqliteFile'] = null;
  if (target.dialect === 'sqlite' && target.filename !== ':memory:') {
    const path = isAbsolute(target.filename) ? target.filename : resolve(io.cwd, target.filename);
    const existed = existsSync(path);
    if (!existed && options.missingFile === 'peek') return null;
    if (!existed && options.missingFile === 'existing') {
      throw new CliError(
        `there is no database at ${label} (${path} does not exist). ` +
          'Create it with `auth-kit migrate` (or `auth-kit seed`), or pass --database-url',
      );
    }
    sqliteFile = { path, existed };
  }
  const db = openDatabase(url);
  const limit = timeout(CONNECT_TIMEOUT_MS);
  try {
    await Promise.race([sql`select 1`.execute(db), limit.promise]);
  } catch (err) {
    await db.destroy().catch(() => undefined);
    throw new CliError(
      `cannot reach the database at ${label}: ${reasonOf(err)}. ` +
        'Check that the database is running and that --database-url (or DATABASE_URL) is right',
      1,
      { cause: err },
    );
  } finally {
    limit.clear();
  }
  return { db, label, sqliteFile };
}

/** Fails unless auth-kit's migrations have all been applied (the user commands need the tables). */
export async function requireMigrated(opened: OpenedDatabase): Promise<void> {
  const { pending, applied } = await getMigrationStatus(opened.db);
  if (pending.length > 0) {
    const what = applied.length === 0 ? 'has no auth-kit tables yet' : `has ${pending.length} pending auth-kit migration(s)`;
    throw new CliError(`the database at ${opened.label} ${what}. Run \`auth-kit migrate\` first`);
  }
}

const PASSWORD_ENV = [
  'AUTH_PASSWORD_MIN_LENGTH',
  'AUTH_ARGON2_MEMORY_COST',
  'AUTH_ARGON2_TIME_COST',
  'AUTH_ARGON2_PARALLELISM',
  'AUTH_MAX_CONCURRENT_HASHES',
] as const;

/**
 * The hasher and password policy from the app's environment variables (`AUTH_ARGON2_*`,
 * `AUTH_MAX_CONCURRENT_HASHES`, `AUTH_PASSWORD_MIN_LENGTH`), else the defaults. The user
 * commands issue no tokens, so `JWT_SECRET_KEY` is not needed: `loadSettings` validates the
 * password variables (same checks and messages as the app, OWASP floor included) and the secret
 * it requires is a throw-away value, never used.
 */
export function passwordOptionsFromEnv(env: Io['env']): { passwords: PasswordHasher; passwordPolicy: PasswordPolicy } {
  const picked: Record<string, string | undefined> = { JWT_SECRET_KEY: randomBytes(32).toString('base64url') };
  for (const name of PASSWORD_ENV) picked[name] = env[name];
  try {
    const settings = loadSettings(picked);
    return {
      passwords: createPasswordHasher({
        memoryCost: settings.argon2MemoryCost,
        timeCost: settings.argon2TimeCost,
        parallelism: settings.argon2Parallelism,
        maxConcurrent: settings.maxConcurrentHashes,
      }),
      passwordPolicy: { minLength: settings.passwordMinLength },
    };
  } catch (err) {
    throw new CliError(`${(err as Error).message}. Fix the environment variable or unset it`, 1, { cause: err });
  }
}

/** Runs `task` with the database open, and closes it whatever happens. */
export async function withDatabase<T>(opened: OpenedDatabase, task: (opened: OpenedDatabase) => Promise<T>): Promise<T> {
  try {
    return await task(opened);
  } finally {
    await opened.db.destroy().catch(() => undefined);
  }
}
