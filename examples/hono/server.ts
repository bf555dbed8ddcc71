/**
 * A Hono app (on Node, through @hono/node-server) with auth-kit embedded next to its own routes,
 * on the SQLite default (./app.db in the current folder) unless DATABASE_URL says otherwise.
 *
 *   JWT_SECRET_KEY=<at least 32 random bytes> npx tsx examples/hono/server.ts
 *
 * Then: POST /auth/register, POST /auth/token, GET /auth/me, and the app's own GET /notes
 * (protected) and GET / (public).
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { type Auth, type Settings, createAuth, loadSettings, migrate, openDatabase } from 'auth-kit';
import { authRoutes, requireAuth } from 'auth-kit/hono';

/** The app: its own routes, with auth-kit mounted at /auth. */
export function createApp(auth: Auth): Hono {
  const app = new Hono();
  app.get('/', (c) => c.json({ hello: 'world', try: ['POST /auth/register', 'POST /auth/token', 'GET /auth/me', 'GET /notes'] }));
  app.route('/auth', authRoutes(auth)); // 1. mount
  app.get('/notes', requireAuth(auth), (c) => {
    // 2. protect, 3. read the user (typed: c.get('user') is an auth-kit User)
    const user = c.get('user');
    return c.json({ owner: user.email, notes: [`Welcome, ${user.fullName ?? user.email}!`] });
  });
  return app;
}

/** Opens the database, migrates, and listens. `port` 0 picks a free port. */
export async function start(options: { port?: number; host?: string; settings?: Settings } = {}) {
  const settings = options.settings ?? loadSettings();
  const db = openDatabase(settings.databaseUrl);
  await migrate(db);
  const auth = createAuth({ db, settings });
  const server = serve({ fetch: createApp(auth).fetch, port: options.port ?? 3000, hostname: options.host ?? '127.0.0.1' }) as Server;
  if (!server.listening) await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST });
  console.log(`Hono app with auth-kit listening on ${url}`);
}
