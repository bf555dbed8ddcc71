import { defineCommand } from '../command.js';

export default defineCommand({
  meta: {
    name: 'events',
    description: 'List auth events (logins, failures, logouts, …) or prune old ones',
    examples: [
      'auth-kit events list --since 24h',
      'auth-kit events list --type login_failed --user ada@example.com',
      'auth-kit events prune --older-than 90d',
    ],
  },
  subCommands: {
    list: { description: 'A table of events, newest first, with filters', load: () => import('./events-list.js') },
    prune: { description: 'Delete events older than a duration (e.g. 90d)', load: () => import('./events-prune.js') },
  },
});
