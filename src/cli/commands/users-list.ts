import { defineCommand, UsageError } from '../command.js';
import { withUsers } from '../users-common.js';

export default defineCommand({
  meta: {
    name: 'list',
    description: 'A table of users, newest first, paginated',
    details: 'Shows id, email, name, active and created time (UTC). Passwords are never shown.',
    examples: [
      'auth-kit users list',
      'auth-kit users list --limit 20',
      'auth-kit users list --limit 20 --cursor <nextCursor from the previous page>',
      "auth-kit users list --json | jq -r '.users[].email'",
    ],
  },
  args: {
    limit: { type: 'string', valueHint: 'n', description: 'Users per page, 1 to 1000', defaultText: '50' },
    cursor: { type: 'string', valueHint: 'cursor', description: 'Where the previous page ended (printed under it)' },
    json: { type: 'boolean', description: 'Print { users, nextCursor } as JSON' },
  },
  async run(ctx) {
    const { args, out } = ctx;
    const limit = args.limit === undefined ? 50 : Number(args.limit);
    if (!/^\d+$/.test(args.limit ?? '50') || limit < 1 || limit > 1000) {
      throw new UsageError('--limit must be a whole number from 1 to 1000');
    }
    const page = await withUsers(ctx, (users) => users.listUsers({ limit, cursor: args.cursor ?? null }));
    if (args.json) {
      out.json(page);
      return;
    }
    if (page.users.length === 0) {
      out.line(args.cursor ? 'No more users.' : 'No users yet. Create one with `auth-kit seed`.');
      return;
    }
    out.table(
      ['ID', 'EMAIL', 'NAME', 'ACTIVE', 'CREATED (UTC)'],
      page.users.map((u) => [
        String(u.id),
        u.email,
        u.fullName ?? '-',
        u.isActive ? 'yes' : 'no',
        u.createdAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ''),
      ]),
    );
    if (page.nextCursor) {
      out.line('');
      out.line(`More users: auth-kit users list --limit ${limit} --cursor ${page.nextCursor}`);
    }
  },
});
