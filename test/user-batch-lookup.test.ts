/**
 * The batched user lookup behind `authenticate`: lookups of one event-loop turn share one query,
 * every lookup gets its own user's row (or none), batches past the per-query limit are split, a
 * read always starts after the lookup was asked (a committed deactivation is seen), and a failing
 * query rejects every lookup of its batch. On every dialect.
 */
import type { KyselyPlugin, PluginTransformResultArgs, QueryResult, UnknownRow } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createAuth, createUserService, migrate, type Auth } from 'auth-kit';
import { MAX_IDS_PER_QUERY, createUserBatchLookup } from '../src/user-batch-lookup.js';
import { describeEachDialect, type TestDatabase } from './support/databases.js';
import { GOOD_PASSWORD, expectAuthKitError, newSecret } from './support/helpers.js';

/** Counts the queries a handle runs (every result passes through a plugin's transformResult). */
function queryCounter(): KyselyPlugin & { count: number } {
  return {
    count: 0,
    transformQuery: (args) => args.node,
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      this.count++;
      return args.result;
    },
  };
}

describeEachDialect('batched user lookup', (dialect) => {
  let t: TestDatabase;
  let ids: number[];
  beforeEach(async () => {
    t = await dialect.open();
    await migrate(t.db);
    const users = createUserService(t.db);
    ids = [];
    for (const name of ['ada', 'bob', 'eve']) {
      ids.push((await users.createUser({ email: `${name}@example.com`, password: GOOD_PASSWORD })).id);
    }
  });
  afterEach(() => t.cleanup());

  it('answers the lookups of one turn with one query, each with its own row', async () => {
    const counter = queryCounter();
    const lookup = createUserBatchLookup(t.db.withPlugin(counter));
    const [ada, bob, ada2, none, eve] = await Promise.all([
      lookup(ids[0]),
      lookup(ids[1]),
      lookup(ids[0]),
      lookup(999_999),
      lookup(ids[2]),
    ]);
    expect(counter.count).toBe(1);
    expect(ada?.email).toBe('ada@example.com');
    expect(ada2).toEqual(ada);
    expect(bob?.email).toBe('bob@example.com');
    expect(eve?.email).toBe('eve@example.com');
    expect(none).toBeUndefined();
    expect(Number(ada?.token_version)).toBe(0);
    // The next turn is a new batch.
    await lookup(ids[1]);
    expect(counter.count).toBe(2);
  });

  it(`splits a turn with more than ${MAX_IDS_PER_QUERY} distinct ids into several queries`, async () => {
    const counter = queryCounter();
    const lookup = createUserBatchLookup(t.db.withPlugin(counter));
    const asked = [...ids, ...Array.from({ length: MAX_IDS_PER_QUERY + 5 }, (_, i) => 100_000 + i)];
    const rows = await Promise.all(asked.map((id) => lookup(id)));
    expect(counter.count).toBe(2);
    expect(rows.slice(0, 3).map((r) => r?.email)).toEqual(['ada@example.com', 'bob@example.com', 'eve@example.com']);
    expect(rows.slice(3).every((r) => r === undefined)).toBe(true);
  });

  it('reads after the lookup was asked: a deactivation committed before is seen', async () => {
    const lookup = createUserBatchLookup(t.db);
    expect((await lookup(ids[0]))?.is_active).toBeTruthy();
    await createUserService(t.db).deactivateUser(ids[0]);
    expect((await lookup(ids[0]))?.is_active).toBeFalsy();
  });

  it('rejects every lookup of a batch whose query fails, and recovers for the next turn', async () => {
    const lookup = createUserBatchLookup(t.db.withSchema('auth_kit_no_such_schema'));
    const results = await Promise.allSettled([lookup(ids[0]), lookup(ids[1])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const working = createUserBatchLookup(t.db);
    expect((await working(ids[1]))?.email).toBe('bob@example.com');
  });

  it('authenticate: concurrent calls for several users each get their own user; a revoked one is refused', async () => {
    const auth: Auth = createAuth({ db: t.db, settings: { jwtSecretKey: newSecret() } });
    const tokens = [];
    for (const name of ['ada', 'bob', 'eve']) {
      tokens.push((await auth.login({ username: `${name}@example.com`, password: GOOD_PASSWORD })).accessToken);
    }
    await auth.users.deactivateUser(ids[1]);
    const results = await Promise.allSettled([...tokens, ...tokens].map((token) => auth.authenticate(token)));
    const emails = results.map((r) => (r.status === 'fulfilled' ? r.value.email : null));
    expect(emails).toEqual(['ada@example.com', null, 'eve@example.com', 'ada@example.com', null, 'eve@example.com']);
    await expectAuthKitError(auth.authenticate(tokens[1]), 'invalid_token', 'revoked');
    expect(await auth.authenticate(tokens[0])).toMatchObject({ email: 'ada@example.com' });
  });
});
