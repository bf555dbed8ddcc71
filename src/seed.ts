import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import * as v from 'valibot';
import { systemClock, type Clock } from './clock.js';
import { isUniqueViolation, toDbBool, toDbTime } from './database/dialect.js';
import { AuthKitError } from './errors.js';
import { type PasswordHasher, createPasswordHasher } from './passwords.js';
import { type PasswordPolicy, EmailSchema, normalizeEmail, parseInput, userSchemas } from './schemas.js';
import { USER_COLUMNS, type User, asAuthDb, toUser } from './user-store.js';
import type { UserService } from './users.js';

/** Length of a password made by {@link generatePassword} unless asked otherwise (24 characters = 144 random bits). */
export const GENERATED_PASSWORD_LENGTH = 24;

/** Users inserted per statement by {@link seedUsers} unless asked otherwise. */
export const DEFAULT_SEED_BATCH_SIZE = 100;

/** One user for {@link seedUsers}. Without `password` (or with `null`), a strong one is generated and returned once. */
export interface SeedUserInput {
  readonly email: string;
  readonly password?: string | null;
  readonly fullName?: string | null;
  /** Default true. */
  readonly isActive?: boolean;
}

/** A user created by {@link seedUsers}; `generatedPassword` is set only when the input had no password. */
export interface SeededUser {
  readonly user: User;
  readonly generatedPassword: string | null;
}

/** What {@link seedUsers} did. */
export interface SeedUsersResult {
  /** Created users, in input order. */
  readonly created: SeededUser[];
  /** Normalised emails that already existed (or repeated an earlier input) and were left alone (`skipExisting`). */
  readonly skipped: string[];
}

/** Options of {@link seedUsers}. */
export interface SeedUsersOptions {
  /** The hasher (and so the in-flight cap) to use. Default: a new one at OWASP defaults. */
  readonly passwords?: PasswordHasher;
  /** Password policy the given passwords must meet; default `{ minLength: 8 }`. */
  readonly passwordPolicy?: PasswordPolicy;
  /** Time source for `createdAt`. */
  readonly clock?: Clock;
  /** Leave existing emails alone instead of failing with `email_already_registered`. Default false. */
  readonly skipExisting?: boolean;
  /** Rows per INSERT statement, 1 to 1000. Default {@link DEFAULT_SEED_BATCH_SIZE}. */
  readonly batchSize?: number;
  /** Called after every batch with the number of inputs handled (created or skipped) so far. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** Options of {@link nextAvailableEmails}. */
export interface NextAvailableEmailsOptions {
  /** Local-part prefix; default `test`. */
  readonly prefix?: string;
  /** Domain; default `example.com`. */
  readonly domain?: string;
  /** How many addresses; default 1. */
  readonly count?: number;
}

/**
 * A strong random password: `length` characters of base64url (6 random bits each), so the
 * default 24 characters carry 144 bits.
 *
 * @example
 * ```ts
 * generatePassword();   // e.g. "q3V0mY1b8Hk2-Zr5aTQeWx_c"
 * generatePassword(32); // 32 characters
 * ```
 */
export function generatePassword(length: number = GENERATED_PASSWORD_LENGTH): string {
  if (!Number.isSafeInteger(length) || length < 16 || length > 1024) {
    throw new AuthKitError('validation_failed', 'A generated password has 16 to 1024 characters');
  }
  return randomBytes(Math.ceil((length * 3) / 4))
    .toString('base64url')
    .slice(0, length);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The next free addresses of the form `<prefix>@<domain>`, `<prefix>1@<domain>`,
 * `<prefix>2@<domain>`…: the bare prefix first, then the lowest unused numbers, filling gaps. Only
 * exact `<prefix><digits>@<domain>` addresses count as taken (`tester@…` does not block `test@…`).
 * Reads the taken ones with {@link UserService.findExistingEmailsWithPrefix}, where LIKE
 * wildcards in the prefix match literally (S21). Throws `validation_failed` when the prefix and
 * domain do not make a valid email address.
 *
 * @example
 * ```ts
 * // test@, test1@ and test3@example.com exist:
 * await nextAvailableEmails(users, { count: 2 }); // ["test2@example.com", "test4@example.com"]
 * ```
 */
export async function nextAvailableEmails(
  users: Pick<UserService, 'findExistingEmailsWithPrefix'>,
  options: NextAvailableEmailsOptions = {},
): Promise<string[]> {
  const prefix = normalizeEmail(options.prefix ?? 'test');
  const domain = normalizeEmail(options.domain ?? 'example.com');
  const count = options.count ?? 1;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new AuthKitError('validation_failed', 'count must be a positive integer', {
      issues: [{ path: 'count', message: 'Must be a positive integer' }],
    });
  }
  // The longest address we may produce must still be valid, so check with the widest number.
  for (const sample of [`${prefix}@${domain}`, `${prefix}${count}@${domain}`]) {
    if (prefix === '' || !v.is(EmailSchema, sample)) {
      throw new AuthKitError(
        'validation_failed',
        `The prefix "${prefix}" and domain "${domain}" do not make a valid email address (${sample})`,
        { issues: [{ path: 'prefix', message: 'Must make a valid email address with the domain' }] },
      );
    }
  }
  const exact = new RegExp(`^${escapeRegExp(prefix)}(0|[1-9][0-9]*)?@${escapeRegExp(domain)}$`);
  const taken = new Set((await users.findExistingEmailsWithPrefix(prefix, domain)).filter((e) => exact.test(e)));
  const result: string[] = [];
  for (let n = 0; result.length < count; n++) {
    const candidate = `${prefix}${n === 0 ? '' : n}@${domain}`;
    if (!taken.has(candidate)) result.push(candidate);
  }
  return result;
}

const SeedInputSchema = v.strictObject(
  {
    email: v.optional(v.unknown()),
    password: v.optional(v.unknown()),
    fullName: v.optional(v.unknown()),
    isActive: v.optional(v.unknown()),
  },
  'Unknown field: a user has email, password, fullName and isActive',
);

interface Prepared {
  readonly index: number;
  readonly email: string;
  readonly password: string;
  readonly generated: boolean;
  readonly fullName: string | null;
  readonly isActive: boolean;
}

function entryLabel(index: number, email: unknown): string {
  return `Entry ${index + 1}${typeof email === 'string' && email.length <= 254 ? ` (${email.trim()})` : ''}`;
}

function alreadyRegistered(email: string, index: number, createdSoFar: number, cause?: unknown): AuthKitError {
  const tail = createdSoFar > 0 ? `; ${createdSoFar} users were created before it` : '';
  return new AuthKitError('email_already_registered', `${email} is already registered${tail}`, {
    cause,
    issues: [{ path: `${index}.email`, message: 'Already registered' }],
  });
}

/**
 * Creates many users fast and with the same rules as {@link UserService.createUser}: every input
 * is validated and its email normalised before anything is written; missing passwords are
 * generated with {@link generatePassword}; passwords are hashed in parallel up to the hasher's
 * in-flight cap while finished batches are inserted with one multi-row INSERT each. An email that
 * already exists, or repeats an earlier input, fails with `email_already_registered` naming it
 * (before any hashing) unless `skipExisting` is set. Each batch commits on its own, so a failure
 * half-way (another process registering the same email meanwhile) keeps the earlier batches and
 * says how many there were.
 *
 * @example
 * ```ts
 * const { created } = await seedUsers(db, [
 *   { email: 'ada@example.com', password: 'correct horse battery staple' },
 *   { email: 'bob@example.com' }, // password generated
 * ], { passwords: createPasswordHasher({ maxConcurrent: 4 }) });
 * created[1].generatedPassword; // shown once; only its hash is stored
 * ```
 */
export async function seedUsers(
  db: Kysely<any>,
  inputs: readonly SeedUserInput[],
  options: SeedUsersOptions = {},
): Promise<SeedUsersResult> {
  if (!Array.isArray(inputs)) {
    throw new AuthKitError('validation_failed', 'seedUsers expects an array of users');
  }
  const batchSize = options.batchSize ?? DEFAULT_SEED_BATCH_SIZE;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
    throw new AuthKitError('validation_failed', 'batchSize must be an integer from 1 to 1000');
  }
  const passwords = options.passwords ?? createPasswordHasher();
  const policy = options.passwordPolicy ?? { minLength: 8 };
  const clock = options.clock ?? systemClock;
  const skipExisting = options.skipExisting ?? false;
  const schema = userSchemas(policy).create;
  const kdb = asAuthDb(db);
  const generatedLength = Math.max(GENERATED_PASSWORD_LENGTH, Math.min(policy.minLength, 1024));

  // 1. Validate everything first: a bad entry 900 must not leave 899 users behind.
  const prepared: Prepared[] = [];
  const skipped: string[] = [];
  const seen = new Map<string, number>();
  inputs.forEach((raw, index) => {
    // Name the entry only when there are several; a single user's errors read better bare.
    const label = inputs.length > 1 ? `${entryLabel(index, (raw as { email?: unknown } | null)?.email)}: ` : '';
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new AuthKitError('validation_failed', `${label}expected an object with email, password?, fullName?`);
    }
    const shape = v.safeParse(SeedInputSchema, raw);
    if (!shape.success) throw new AuthKitError('validation_failed', `${label}${shape.issues[0].message}`);
    // `null` (handy in JSON fixtures) means "generate one", like a missing password.
    const generated = raw.password === undefined || raw.password === null;
    const password = generated ? generatePassword(generatedLength) : raw.password;
    let data: v.InferOutput<typeof schema>;
    try {
      data = parseInput(schema, { ...raw, password });
    } catch (err) {
      if (err instanceof AuthKitError) {
        throw new AuthKitError('validation_failed', `${label}${err.message}`, {
          issues: err.issues.map((i) => ({ path: `${index}.${i.path}`, message: i.message })),
        });
      }
      throw err;
    }
    const first = seen.get(data.email);
    if (first !== undefined) {
      if (skipExisting) {
        skipped.push(data.email);
        return;
      }
      throw new AuthKitError(
        'email_already_registered',
        `${data.email} appears twice (entries ${first + 1} and ${index + 1})`,
        { issues: [{ path: `${index}.email`, message: 'Repeats an earlier entry' }] },
      );
    }
    seen.set(data.email, index);
    prepared.push({
      index,
      email: data.email,
      password: data.password,
      generated,
      fullName: data.fullName ?? null,
      isActive: data.isActive ?? true,
    });
  });

  // 2. Existing emails, before spending any hashing time.
  const existing = new Set<string>();
  const emails = prepared.map((p) => p.email);
  for (let i = 0; i < emails.length; i += 500) {
    const rows = await kdb
      .selectFrom('auth_users')
      .select('email')
      .where('email', 'in', emails.slice(i, i + 500))
      .execute();
    for (const row of rows) existing.add(row.email);
  }
  let todo = prepared;
  if (existing.size > 0) {
    if (!skipExisting) {
      const hit = prepared.find((p) => existing.has(p.email))!;
      throw alreadyRegistered(hit.email, hit.index, 0);
    }
    todo = prepared.filter((p) => !existing.has(p.email));
    skipped.push(...prepared.filter((p) => existing.has(p.email)).map((p) => p.email));
  }

  // 3. Hash ahead of the inserts (the hasher caps the hashes in flight), insert batch by batch.
  const total = inputs.length;
  let done = total - todo.length;
  const created: SeededUser[] = [];
  const hashes: (Promise<string> | undefined)[] = [];
  const window = batchSize * 2;
  let submitted = 0;
  const topUp = (consumed: number) => {
    while (submitted < todo.length && submitted - consumed < window) {
      const pending = passwords.hash(todo[submitted].password);
      // Awaited below; this only keeps an early failure from being reported as unhandled.
      pending.catch(() => undefined);
      hashes[submitted++] = pending;
    }
  };

  for (let start = 0; start < todo.length; start += batchSize) {
    const batch = todo.slice(start, start + batchSize);
    const rows = [];
    for (let i = 0; i < batch.length; i++) {
      topUp(start + i);
      const hashed = await hashes[start + i]!;
      hashes[start + i] = undefined;
      const p = batch[i];
      rows.push({
        email: p.email,
        full_name: p.fullName,
        is_active: toDbBool(p.isActive),
        hashed_password: hashed,
        created_at: toDbTime(clock()),
      });
    }
    topUp(start + batch.length);
    let inserted;
    try {
      let query = kdb.insertInto('auth_users').values(rows);
      if (skipExisting) query = query.onConflict((oc) => oc.column('email').doNothing());
      inserted = await query.returning(USER_COLUMNS).execute();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Someone registered one of these emails after the check above: name it.
      const taken = await kdb
        .selectFrom('auth_users')
        .select('email')
        .where(
          'email',
          'in',
          batch.map((p) => p.email),
        )
        .execute();
      const hit = batch.find((p) => taken.some((t) => t.email === p.email)) ?? batch[0];
      throw alreadyRegistered(hit.email, hit.index, created.length, err);
    }
    const byEmail = new Map(inserted.map((row) => [row.email, toUser(row)]));
    for (const p of batch) {
      const user = byEmail.get(p.email);
      if (user) created.push({ user, generatedPassword: p.generated ? p.password : null });
      else skipped.push(p.email);
    }
    done += batch.length;
    options.onProgress?.(done, total);
  }
  return { created, skipped };
}
