import { CliError, UsageError, defineCommand } from '../command.js';
import { promptHidden, readSecretFromStdin } from '../prompt.js';
import { describeUser, findUser, withUsers } from '../users-common.js';

export default defineCommand({
  meta: {
    name: 'set-password',
    description: "Set a user's password (prompt or --password-stdin)",
    details:
      'On a terminal the new password is asked twice, without echo. In scripts, pipe it in with\n' +
      '--password-stdin (one trailing newline is dropped). It is never taken from an argument,\n' +
      'which would land in shell history. Access tokens issued before the change stop working.',
    examples: [
      'auth-kit users set-password ada@example.com',
      'printf %s "$NEW_PASSWORD" | auth-kit users set-password ada@example.com --password-stdin',
      'auth-kit users set-password 42 --password-stdin < password.txt',
    ],
  },
  positionals: [{ name: 'email|id', description: "The user's email (any case) or numeric id" }],
  optionHints: {
    password: 'the password is never taken from an argument, which would land in shell history; answer the prompt or use --password-stdin',
  },
  args: {
    'password-stdin': { type: 'boolean', description: 'Read the new password from stdin instead of prompting' },
  },
  async run(ctx) {
    const { args, io, out } = ctx;
    if (!args['password-stdin'] && !io.stdin.isTTY) {
      throw new UsageError('stdin is not a terminal, so there is no prompt: pipe the password in with --password-stdin');
    }
    const message = await withUsers(ctx, async (users) => {
      // Find the user first: no point asking for a password for a user that does not exist.
      const user = await findUser(users, ctx.positionals[0]);
      let password: string;
      if (args['password-stdin']) {
        password = await readSecretFromStdin(io);
        if (password === '') throw new CliError('stdin was empty: pipe the new password in');
      } else {
        password = await promptHidden(io, `New password for ${user.email}: `);
        const again = await promptHidden(io, 'Repeat it: ');
        if (again !== password) throw new CliError('the two passwords differ; nothing was changed');
      }
      const updated = await users.updateUser(user.id, { password });
      if (!updated) throw new CliError(`user ${describeUser(user)} was deleted meanwhile`);
      return `Password changed for user ${describeUser(updated)}; access tokens issued before now no longer work.`;
    });
    out.line(message);
  },
});
