import { defineCommand } from '../command.js';
import { describeUser, findUser, withUsers } from '../users-common.js';

export default defineCommand({
  meta: {
    name: 'activate',
    description: 'Let a deactivated user log in again',
    details: 'Access tokens issued before the deactivation stay invalid; the user logs in again.',
    examples: ['auth-kit users activate ada@example.com', 'auth-kit users activate 42'],
  },
  positionals: [{ name: 'email|id', description: "The user's email (any case) or numeric id" }],
  async run(ctx) {
    const message = await withUsers(ctx, async (users) => {
      const user = await findUser(users, ctx.positionals[0]);
      if (user.isActive) return `User ${describeUser(user)} was already active.`;
      await users.updateUser(user.id, { isActive: true });
      return `Activated user ${describeUser(user)}: they can log in again.`;
    });
    ctx.out.line(message);
  },
});
