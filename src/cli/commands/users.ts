import { defineCommand } from '../command.js';

export default defineCommand({
  meta: {
    name: 'users',
    description: 'List users, activate or deactivate one, set a password',
    examples: [
      'auth-kit users list',
      'auth-kit users deactivate ada@example.com',
      'auth-kit users activate 42',
      'printf %s "$NEW_PASSWORD" | auth-kit users set-password ada@example.com --password-stdin',
    ],
  },
  subCommands: {
    list: { description: 'A table of users, newest first, paginated', load: () => import('./users-list.js') },
    deactivate: { description: 'Block a user from logging in; their tokens stop working', load: () => import('./users-deactivate.js') },
    activate: { description: 'Let a deactivated user log in again', load: () => import('./users-activate.js') },
    'set-password': { description: "Set a user's password (prompt or --password-stdin)", load: () => import('./users-set-password.js') },
  },
});
