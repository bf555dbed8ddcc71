import { AUTH_EVENT_TYPES, type AuthEventType, type ListEventsOptions, isAuthEventType, listEvents, normalizeEmail } from 'auth-kit';
import { UsageError, defineCommand } from '../command.js';
import { cell, parseLimit, parseSince, utc } from '../format.js';
import { findUser, withUsers } from '../users-common.js';

export default defineCommand({
  meta: {
    name: 'list',
    description: 'A table of events, newest first, with filters',
    details:
      'Every event has a time, a type, the user (when known), the email (failed logins of unknown\n' +
      `accounts carry it too), the client address and the user agent; never a password or a token.\n` +
      `Types: ${AUTH_EVENT_TYPES.join(', ')}.\n` +
      '--user takes an email or a user id; an email that no account has lists the events recorded\n' +
      'with that email (failed logins at an unknown account, say).',
    examples: [
      'auth-kit events list',
      'auth-kit events list --since 24h --type login_failed,login_throttled',
      'auth-kit events list --type logout --type password_changed --user ada@example.com',
      'auth-kit events list --since 2025-01-31 --limit 200 --json',
      'auth-kit events list --limit 20 --cursor <nextCursor from the previous page>',
    ],
  },
  args: {
    type: {
      type: 'string',
      multiple: true,
      valueHint: 'type',
      description: 'Only events of this type; repeat it or give a comma list for several',
    },
    user: { type: 'string', valueHint: 'email|id', description: "Only this user's events" },
    since: { type: 'string', valueHint: 'when', description: 'Only events since a duration ago (24h, 7d) or an ISO date' },
    limit: { type: 'string', valueHint: 'n', description: 'Events per page, 1 to 1000', defaultText: '50' },
    cursor: { type: 'string', valueHint: 'cursor', description: 'Where the previous page ended (printed under it)' },
    json: { type: 'boolean', description: 'Print { events, nextCursor } as JSON' },
  },
  async run(ctx) {
    const { args, out } = ctx;
    const types = parseTypes(args.type);
    const limit = parseLimit(args.limit, 50);
    const since = args.since === undefined ? undefined : parseSince(args.since, new Date());
    const userRef = args.user?.trim();
    if (userRef !== undefined && !/^\d+$/.test(userRef) && !/^[^@\s]+@[^@\s]+$/.test(userRef)) {
      throw new UsageError('--user must be an email address or a numeric user id');
    }

    const { page, unknownEmail } = await withUsers(ctx, async (users, _label, db) => {
      const options: { -readonly [K in keyof ListEventsOptions]: ListEventsOptions[K] } = { limit, cursor: args.cursor ?? null };
      if (types.length > 0) options.type = types;
      if (since) options.since = since;
      let unknown: string | null = null;
      if (userRef !== undefined) {
        const user = /^\d+$/.test(userRef) ? await findUser(users, userRef) : await users.getUserByEmail(userRef);
        if (user) options.userId = user.id;
        else options.email = unknown = normalizeEmail(userRef);
      }
      return { page: await listEvents(db, options), unknownEmail: unknown };
    });

    if (args.json) {
      out.json(page);
      return;
    }
    if (unknownEmail !== null) out.note(`No account has the email ${unknownEmail}: showing the events recorded with it.`);
    const filtered = types.length > 0 || since !== undefined || userRef !== undefined;
    if (page.events.length === 0) {
      out.line(args.cursor ? 'No more events.' : filtered ? 'No events match these filters.' : 'No events recorded yet.');
      return;
    }
    out.table(
      ['ID', 'TIME (UTC)', 'TYPE', 'USER', 'EMAIL', 'CLIENT ADDRESS', 'USER AGENT'],
      page.events.map((e) => [
        String(e.id),
        utc(e.createdAt),
        e.type,
        e.userId === null ? '-' : String(e.userId),
        cell(e.email),
        cell(e.clientAddress),
        cell(e.userAgent),
      ]),
    );
    if (page.nextCursor) {
      // The same filters, `--since` pinned to a time, so the next page continues this one exactly.
      const again = ['auth-kit events list'];
      if (types.length > 0) again.push(`--type ${types.join(',')}`);
      if (userRef !== undefined) again.push(`--user ${userRef}`);
      if (since) again.push(`--since ${since.toISOString()}`);
      again.push(`--limit ${limit}`, `--cursor ${page.nextCursor}`);
      out.line('');
      out.line(`More events: ${again.join(' ')}`);
    }
  },
});

/** `--type a --type b,c` → [a, b, c], each checked against the known types. */
function parseTypes(values: readonly string[]): AuthEventType[] {
  const types = new Set<AuthEventType>();
  for (const value of values) {
    for (const part of value.split(',')) {
      const type = part.trim();
      if (type === '') continue;
      if (!isAuthEventType(type)) {
        throw new UsageError(`--type: unknown event type "${cell(type, 40)}"; the types are ${AUTH_EVENT_TYPES.join(', ')}`);
      }
      types.add(type);
    }
  }
  if (values.length > 0 && types.size === 0) throw new UsageError(`--type needs a type: ${AUTH_EVENT_TYPES.join(', ')}`);
  return [...types];
}
