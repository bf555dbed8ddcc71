import { clearLoginFailures, normalizeEmail } from 'auth-kit';
import { UsageError, defineCommand } from '../command.js';
import { findUser, withUsers } from '../users-common.js';

export default defineCommand({
  meta: {
    name: 'unlock',
    description: "Clear an email's failed-login count (lift a lockout)",
    details:
      'Failed logins are counted per email, whether or not an account has it; after\n' +
      'AUTH_MAX_FAILED_LOGINS in the window each attempt waits longer, and 100 consecutive failures\n' +
      'lock the email until a password reset. This clears the count now (a `lockout_cleared` event\n' +
      'is recorded; the failures themselves stay in the event log).',
    examples: ['auth-kit users unlock ada@example.com', 'auth-kit users unlock 42'],
  },
  positionals: [{ name: 'email|id', description: 'The email (any case, with or without an account) or a user id' }],
  async run(ctx) {
    const ref = ctx.positionals[0];
    if (!/^\d+$/.test(ref) && !/^[^@\s]+@[^@\s]+$/.test(ref.trim())) {
      throw new UsageError('<email|id> must be an email address or a numeric user id');
    }
    const message = await withUsers(ctx, async (users, _label, db) => {
      const email = /^\d+$/.test(ref) ? (await findUser(users, ref)).email : normalizeEmail(ref);
      const known = /^\d+$/.test(ref) || (await users.getUserByEmail(email)) !== null;
      await clearLoginFailures(db, email);
      return `Cleared the failed-login count of ${email}${known ? '' : ' (no account has this email)'}: logins are accepted again.`;
    });
    ctx.out.line(message);
  },
});
