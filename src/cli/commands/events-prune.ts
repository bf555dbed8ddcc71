import { pruneEvents } from 'auth-kit';
import { UsageError, defineCommand } from '../command.js';
import { databaseUrlOf, openCommandDatabase, requireMigrated, withDatabase } from '../database.js';
import { parseDuration, plural, utc } from '../format.js';

export default defineCommand({
  meta: {
    name: 'prune',
    description: 'Delete events older than a duration (e.g. 90d)',
    details:
      'Deletes the events created before now minus --older-than and prints how many. Failed logins\n' +
      'older than the lockout window no longer slow anyone down, but the 100-consecutive-failures\n' +
      'lock counts back to the last success, and the log is your audit trail: keep at least as\n' +
      'long as your retention policy needs (90 days is common). Durations: s, m, h, d.',
    examples: ['auth-kit events prune --older-than 90d', 'auth-kit events prune --older-than 365d --json'],
  },
  args: {
    'older-than': { type: 'string', valueHint: 'duration', description: 'Required: 90d, 12h, 30m or 45s' },
    json: { type: 'boolean', description: 'Print { deleted, before } as JSON' },
  },
  async run({ args, io, out }) {
    const text = args['older-than'];
    if (text === undefined) throw new UsageError('--older-than is required, e.g. --older-than 90d');
    const ms = parseDuration(text);
    if (ms === null) throw new UsageError('--older-than must be a positive duration such as 90d, 12h, 30m or 45s');
    const opened = (await openCommandDatabase(databaseUrlOf(args['database-url'], io.env), io, { missingFile: 'existing' }))!;
    const before = new Date(Date.now() - ms);
    const deleted = await withDatabase(opened, async (o) => {
      await requireMigrated(o);
      return pruneEvents(o.db, { olderThan: before });
    });
    if (args.json) {
      out.json({ deleted, before: before.toISOString() });
      return;
    }
    out.line(`Deleted ${plural(deleted, 'event')} older than ${text.trim()} (created before ${utc(before)} UTC).`);
  },
});
