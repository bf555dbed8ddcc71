import type { Kysely } from 'kysely';

/** The storage dialects auth-kit supports. */
export type DialectName = 'sqlite' | 'postgres';

/**
 * Tells which dialect a Kysely handle speaks, from its adapter (works for handles the app built
 * itself). Throws for dialects auth-kit does not support.
 */
export function dialectOf(db: Kysely<any>): DialectName {
  const adapter = db.getExecutor().adapter;
  const name = adapter.constructor?.name ?? '';
  if (/postgres/i.test(name)) return 'postgres';
  if (/sqlite/i.test(name)) return 'sqlite';
  throw new TypeError(`auth-kit supports SQLite and PostgreSQL Kysely handles, not ${name || 'this dialect'}`);
}

/** Writes a time the way both dialects accept it: ISO 8601 in UTC, millisecond precision. */
export function toDbTime(date: Date): string {
  return date.toISOString();
}

/** Writes a boolean both dialects accept: 1/0 (PostgreSQL casts an untyped `1` to `true`). */
export function toDbBool(value: boolean): number {
  return value ? 1 : 0;
}

/** Reads a timestamp column of either dialect as a `Date`. */
export function fromDbTime(value: Date | string | number): Date {
  return value instanceof Date ? value : new Date(value);
}

/** Reads a boolean column of either dialect. */
export function fromDbBool(value: boolean | number | string): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}

/** True when a driver error is a unique-constraint violation, on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
