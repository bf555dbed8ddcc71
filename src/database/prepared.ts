/**
 * Queries on the hot paths (every login, every authenticated request) are built with Kysely once
 * per handle and then re-run with new values, instead of building and compiling the same query
 * tree on every call. Kysely stays the author of the SQL: the query is compiled with placeholder
 * values, and each later call puts its own values where the placeholders were.
 */
import { CompiledQuery, type Compilable, type Kysely } from 'kysely';

/**
 * A query of fixed shape whose values come as arguments. `build` must pass every argument to
 * Kysely as a plain value (`.where('email', '=', email)`, `.values({ email })`), never inspect
 * or transform it, and must not branch on it: it is called once, with placeholders.
 */
export type QueryBuilderOf<Args extends readonly unknown[], Row> = (db: Kysely<any>, ...args: Args) => Compilable<Row>;

/** Runs a prepared query on a handle; see {@link prepareQuery}. */
export type PreparedQuery<Args extends readonly unknown[], Row> = (
  db: Kysely<any>,
  ...args: Args
) => Promise<{ readonly rows: Row[] }>;

interface Compiled {
  readonly sql: string;
  /** For each parameter: the index of the argument it takes, or a constant from the query itself. */
  readonly slots: readonly ({ readonly arg: number } | { readonly constant: unknown })[];
}

/** A value no caller can pass by accident: the placeholder for argument `i`. */
function placeholder(i: number): string {
  return `\u0000Auth-Kit-Placeholder-${i}\u0000`;
}

function compile<Args extends readonly unknown[], Row>(
  db: Kysely<any>,
  build: QueryBuilderOf<Args, Row>,
  arity: number,
): Compiled {
  const placeholders = Array.from({ length: arity }, (_, i) => placeholder(i));
  const { sql, parameters } = build(db, ...(placeholders as unknown as Args)).compile();
  const seen = new Set<number>();
  const slots = parameters.map((value) => {
    const arg = typeof value === 'string' ? placeholders.indexOf(value) : -1;
    if (arg === -1) return { constant: value };
    seen.add(arg);
    return { arg };
  });
  if (seen.size !== arity) {
    // A programming error in auth-kit: an argument was transformed or dropped by `build`.
    throw new TypeError(`auth-kit: a prepared query uses ${seen.size} of its ${arity} arguments as values`);
  }
  return { sql, slots };
}

/** Compiled forms kept per adapter (handles differing only in their plugins). */
const MAX_PLUGIN_VARIANTS = 8;

function samePlugins(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((plugin, i) => plugin === b[i]);
}

/**
 * Prepares a query of fixed shape: `build` runs once per database handle (on the first call with
 * it), later calls only fill in the values. The result is the same as building the query and
 * calling `.execute()` on `db`, including the handle's plugins.
 *
 * A transaction is a new Kysely object every time, so the compiled form is kept per dialect adapter
 * (one per handle, shared by its transactions) and plugin list (`withSchema` changes the SQL).
 *
 * @example
 * ```ts
 * const userByEmail = prepareQuery(1, (db, email: string) =>
 *   db.selectFrom('auth_users').select(['id']).where('email', '=', email));
 * const { rows } = await userByEmail(db, 'ada@example.com');
 * ```
 */
export function prepareQuery<Args extends readonly unknown[], Row>(
  arity: Args['length'],
  build: QueryBuilderOf<Args, Row>,
): PreparedQuery<Args, Row> {
  const byAdapter = new WeakMap<object, { readonly plugins: readonly unknown[]; readonly compiled: Compiled }[]>();
  return async (db, ...args) => {
    const executor = db.getExecutor();
    let entries = byAdapter.get(executor.adapter);
    if (entries === undefined) {
      entries = [];
      byAdapter.set(executor.adapter, entries);
    }
    let compiled = entries.find((entry) => samePlugins(entry.plugins, executor.plugins))?.compiled;
    if (compiled === undefined) {
      compiled = compile(db, build, arity);
      // Bounded: an app that makes a new `withSchema` handle per request must not grow this list.
      if (entries.length >= MAX_PLUGIN_VARIANTS) entries.shift();
      entries.push({ plugins: [...executor.plugins], compiled });
    }
    const parameters = compiled.slots.map((slot) => ('arg' in slot ? args[slot.arg] : slot.constant));
    return db.executeQuery<Row>(CompiledQuery.raw(compiled.sql, parameters));
  };
}
