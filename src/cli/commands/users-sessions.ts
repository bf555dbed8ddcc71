import { listActiveSessions } from 'auth-kit';
import { defineCommand } from '../command.js';
import { cell, plural, utc } from '../format.js';
import { describeUser, findUser, withUsers } from '../users-common.js';

export default defineCommand({
  meta: {
    name: 'sessions',
    description: "List a user's active sessions (one per login still usable)",
    details:
      'A session is what one login started: its refresh token rotates on every use, within an\n' +
      'absolute lifetime (JWT_REFRESH_TOKEN_EXPIRE_DAYS). Shown: id, created, last refreshed,\n' +
      'expiry (all UTC), client address and user agent. Tokens are never shown (only their hashes\n' +
      'are stored). End them all with `auth-kit users revoke-sessions`.',
    examples: [
      'auth-kit users sessions ada@example.com',
      'auth-kit users sessions 42 --json',
      "auth-kit users sessions ada@example.com --json | jq -r '.sessions[].clientAddress'",
    ],
  },
  positionals: [{ name: 'email|id', description: "The user's email (any case) or numeric id" }],
  args: {
    json: { type: 'boolean', description: 'Print { userId, email, sessions } as JSON' },
  },
  async run(ctx) {
    const { args, out } = ctx;
    const { user, sessions } = await withUsers(ctx, async (users, _label, db) => {
      const found = await findUser(users, ctx.positionals[0]);
      return { user: found, sessions: await listActiveSessions(db, found.id, { now: new Date() }) };
    });
    // `current` means "the caller's own session", which a command line does not have.
    const shown = sessions.map(({ current: _current, ...session }) => session);
    if (args.json) {
      out.json({ userId: user.id, email: user.email, sessions: shown });
      return;
    }
    if (shown.length === 0) {
      out.line(`User ${describeUser(user)} has no active sessions.`);
      return;
    }
    out.line(`User ${describeUser(user)} has ${plural(shown.length, 'active session')}, newest first:`);
    out.table(
      ['ID', 'CREATED (UTC)', 'LAST USED (UTC)', 'EXPIRES (UTC)', 'CLIENT ADDRESS', 'USER AGENT'],
      shown.map((s) => [s.id, utc(s.createdAt), utc(s.lastUsedAt), utc(s.expiresAt), cell(s.clientAddress), cell(s.userAgent)]),
    );
  },
});
