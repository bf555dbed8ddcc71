/**
 * An Express app with auth-kit embedded next to its own routes, on the SQLite default
 * (./app.db in the current folder) unless DATABASE_URL says otherwise.
 *
 *   JWT_SECRET_KEY=<at least 32 random bytes> npx tsx examples/express/server.ts
 *
 * Then: POST /auth/register, POST /auth/token, GET /auth/me, and the app's own GET /notes
 * (protected) and GET / (public). `npm run demo` runs this app with a throw-away secret.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { type Auth, type Settings, createAuth, loadSettings, migrate, openDatabase } from 'auth-kit';
import { authRoutes, requireAuth } from 'auth-kit/express';

/** The app: its own routes, with auth-kit mounted at /auth. */
export function createApp(auth: Auth): express.Express {
  const app = express();
  app.use(express.json()); // the app's own parser; auth-kit works with or without it

  app.get('/', (_req, res) => {
    res.json({ hello: 'world', try: ['POST /auth/register', 'POST /auth/token', 'GET /auth/me', 'GET /notes'] });
  });
  app.use('/auth', authRoutes(auth)); // 1. mount
  app.get('/notes', requireAuth(auth), (req, res) => {
    // 2. protect, 3. read the user
    res.json({ owner: req.user!.email, notes: [`Welcome, ${req.user!.fullName ?? req.user!.email}!`] });
  });
  return app;
}

/** Opens the database, migrates, and listens. `port` 0 picks a free port. */
export async function start(options: { port?: number; host?: string; settings?: Settings } = {}) {
  const settings = options.settings ?? loadSettings();
  const db = openDatabase(settings.databaseUrl);
  await migrate(db);
  const auth = createAuth({ db, settings });
  const server = createApp(auth).listen(options.port ?? 3000, options.host ?? '127.0.0.1');
  await once(server, 'listening');
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
  console.log(`Express app with auth-kit listening on ${url}`);
}
