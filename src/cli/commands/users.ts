import { defineCommand } from '../command.js';

export default defineCommand({
  meta: {
    name: 'users',
    description: 'List users, activate or deactivate one, set a password, see or end sessions',
    examples: [
      'auth-kit users list',
      'auth-kit users deactivate ada@example.com',
      'auth-kit users activate 42',
      'printf %s "$NEW_PASSWORD" | auth-kit users set-password ada@example.com --password-stdin',
      'auth-kit users sessions ada@example.com',
      'auth-kit users revoke-sessions ada@example.com',
    ],
  },
  subCommands: {
    list: { description: 'A table of users, newest first, paginated', load: () => import('./users-list.js') },
    deactivate: { description: 'Block a user from logging in; their tokens stop working', load: () => import('./users-deactivate.js') },
    activate: { description: 'Let a deactivated user log in again', load: () => import('./users-activate.js') },
    'set-password': { description: "Set a user's password (prompt or --password-stdin)", load: () => import('./users-set-password.js') },
    sessions: { description: "List a user's active sessions (one per login still usable)", load: () => import('./users-sessions.js') },
    'revoke-sessions': {
      description: 'Log a user out everywhere: end every session, invalidate their access tokens',
      load: () => import('./users-revoke-sessions.js'),
    },
    unlock: { description: "Clear an email's failed-login count (lift a lockout)", load: () => import('./users-unlock.js') },
  },
});
