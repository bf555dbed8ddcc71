import { defineCommand } from '../command.js';
import { describeUser, findUser, withUsers } from '../users-common.js';

export default defineCommand({
  meta: {
    name: 'deactivate',
    description: 'Block a user from logging in; their tokens stop working',
    examples: ['auth-kit users deactivate ada@example.com', 'auth-kit users deactivate 42'],
  },
  positionals: [{ name: 'email|id', description: "The user's email (any case) or numeric id" }],
  async run(ctx) {
    const message = await withUsers(ctx, async (users) => {
      const user = await findUser(users, ctx.positionals[0]);
      if (!user.isActive) return `User ${describeUser(user)} was already inactive.`;
      await users.deactivateUser(user.id);
      return `Deactivated user ${describeUser(user)}: they cannot log in, and their access tokens no longer work.`;
    });
    ctx.out.line(message);
  },
});
