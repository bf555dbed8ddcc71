/**
 * A Fastify app with auth-kit embedded next to its own routes, on the SQLite default
 * (./app.db in the current folder) unless DATABASE_URL says otherwise.
 *
 *   JWT_SECRET_KEY=<at least 32 random bytes> npx tsx examples/fastify/server.ts
 *
 * Then: POST /auth/register, POST /auth/token, GET /auth/me, and the app's own GET /notes
 * (protected) and GET / (public).
 */
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Auth, type Settings, createAuth, loadSettings, migrate, openDatabase } from 'auth-kit';
import { authRoutes, requireAuth } from 'auth-kit/fastify';

/** The app: its own routes, with auth-kit registered under the /auth prefix. */
export async function createApp(auth: Auth): Promise<FastifyInstance> {
  // auth-kit hands unexpected errors (answered 500) to request.log.error.
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } });
  app.get('/', async () => ({ hello: 'world', try: ['POST /auth/register', 'POST /auth/token', 'GET /auth/me', 'GET /notes'] }));
  await app.register(authRoutes(auth), { prefix: '/auth' }); // 1. mount
  app.get('/notes', { preHandler: requireAuth(auth) }, async (request) => {
    // 2. protect, 3. read the user
    const user = request.user!;
    return { owner: user.email, notes: [`Welcome, ${user.fullName ?? user.email}!`] };
  });
  return app;
}

/** Opens the database, migrates, and listens. `port` 0 picks a free port. */
export async function start(options: { port?: number; host?: string; settings?: Settings } = {}) {
  const settings = options.settings ?? loadSettings();
  const db = openDatabase(settings.databaseUrl);
  await migrate(db);
  const auth = createAuth({ db, settings });
  const app = await createApp(auth);
  await app.listen({ port: options.port ?? 3000, host: options.host ?? '127.0.0.1' });
  const { address, port } = app.server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    async close() {
      await app.close();
      await db.destroy();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { url } = await start({ port: Number(process.env.PORT ?? 3000), host: process.env.HOST });
  console.log(`Fastify app with auth-kit listening on ${url}`);
}
