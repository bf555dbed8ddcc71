import { pruneExpired } from 'auth-kit';
import { defineCommand } from '../command.js';
import { databaseUrlOf, openCommandDatabase, requireMigrated, withDatabase } from '../database.js';
import { plural } from '../format.js';

export default defineCommand({
  meta: {
    name: 'prune',
    description: 'Delete expired sessions and used or expired password-reset tokens',
    details:
      'Every login adds a session row and every refresh another (the spent one is kept to detect\n' +
      'reuse); every reset request adds a token row. This deletes the rows that can never be\n' +
      'accepted again: all rows of sessions past their absolute lifetime, and reset tokens that are\n' +
      'used or expired. Sessions still within their lifetime (revoked ones included) are untouched.\n' +
      'Run it on a schedule (e.g. nightly from cron).\n' +
      'Events are the audit trail and are pruned separately: auth-kit events prune.',
    examples: ['auth-kit prune', 'auth-kit prune --json --database-url postgres://app@localhost/app'],
  },
  args: {
    json: { type: 'boolean', description: 'Print { sessions, passwordResetTokens } as JSON' },
  },
  async run({ args, io, out }) {
    const opened = (await openCommandDatabase(databaseUrlOf(args['database-url'], io.env), io, { missingFile: 'existing' }))!;
    const deleted = await withDatabase(opened, async (o) => {
      await requireMigrated(o);
      return pruneExpired(o.db);
    });
    if (args.json) {
      out.json(deleted);
      return;
    }
    out.line(
      `Deleted ${plural(deleted.sessions, 'session row')} of sessions past their lifetime and ` +
        `${plural(deleted.passwordResetTokens, 'used or expired password-reset token')}.`,
    );
  },
});
