import { recordEvent, revokeAllSessions } from 'auth-kit';
import { CliError, defineCommand } from '../command.js';
import { plural } from '../format.js';
import { describeUser, findUser, withUsers } from '../users-common.js';

export default defineCommand({
  meta: {
    name: 'revoke-sessions',
    description: "Log a user out everywhere: end every session, invalidate their access tokens",
    details:
      'The same as `auth.logoutAll(userId)`: every refresh token of the user stops working, and so\n' +
      'does every access token issued before now. The account stays active; the user logs in again.\n' +
      'A `logout` event is recorded.',
    examples: [
      'auth-kit users revoke-sessions ada@example.com',
      'auth-kit users revoke-sessions 42 --json',
    ],
  },
  positionals: [{ name: 'email|id', description: "The user's email (any case) or numeric id" }],
  args: {
    json: { type: 'boolean', description: 'Print { userId, email, revoked } as JSON' },
  },
  async run(ctx) {
    const { args, out } = ctx;
    const result = await withUsers(ctx, async (users, _label, db) => {
      const user = await findUser(users, ctx.positionals[0]);
      const now = new Date();
      const revoked = await revokeAllSessions(db, user.id, { now });
      if (revoked === null) throw new CliError(`user ${describeUser(user)} was deleted meanwhile`);
      await recordEvent(db, { type: 'logout', userId: user.id, email: user.email }, { clock: () => now });
      return { user, revoked };
    });
    if (args.json) {
      out.json({ userId: result.user.id, email: result.user.email, revoked: result.revoked });
      return;
    }
    out.line(
      `Revoked ${plural(result.revoked, 'active session')} of user ${describeUser(result.user)}; ` +
        'access tokens issued before now no longer work.',
    );
  },
});
