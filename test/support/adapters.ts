/**
 * The adapter conformance loop: one entry per HTTP adapter. Each starts a small app on 127.0.0.1
 * (ephemeral port) that mounts auth-kit at /auth next to routes of its own:
 *   GET  /health   200 {"ok":true}
 *   GET  /private  behind requireAuth: 200 {"id","email"} of the user
 *   POST /echo     the body as the APP's own parser saw it ({"parsed": …}, or {"parsed": null} without one)
 * `parsers` says whether the app installs its own body parsers, before or after mounting auth-kit.
 * Adding an adapter = adding one entry to ADAPTERS.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import type { Auth, AuthHttpOptions } from 'auth-kit';
import * as expressAdapter from 'auth-kit/express';
import * as fastifyAdapter from 'auth-kit/fastify';
import * as honoAdapter from 'auth-kit/hono';

export type ParserMode = 'none' | 'before' | 'after';

export interface AppOptions extends AuthHttpOptions {
  readonly parsers?: ParserMode;
  /** Where the framework's own logger writes (Fastify); Express and Hono log to console.error. */
  readonly logLines?: string[];
}

export interface RunningApp {
  readonly url: string;
  close(): Promise<void>;
}

export interface AdapterCase {
  readonly name: string;
  start(auth: Auth, options?: AppOptions): Promise<RunningApp>;
}

function authOptions(options: AppOptions): AuthHttpOptions {
  return { maxBodyBytes: options.maxBodyBytes, onError: options.onError, status: options.status };
}

async function listenNode(server: Server): Promise<RunningApp> {
  if (!server.listening) await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const expressCase: AdapterCase = {
  name: 'express',
  async start(auth, options = {}) {
    const { authRoutes, requireAuth } = expressAdapter;
    const app = express();
    const parsers = () => {
      app.use(express.json());
      app.use(express.urlencoded());
    };
    if (options.parsers === 'before') parsers();
    app.use('/auth', authRoutes(auth, authOptions(options)));
    if (options.parsers === 'after') parsers();
    app.get('/health', (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/private', requireAuth(auth, authOptions(options)), (req, res) => {
      res.json({ id: req.user!.id, email: req.user!.email });
    });
    app.post('/echo', (req, res) => {
      res.json({ parsed: req.body ?? null });
    });
    return listenNode(app.listen(0, '127.0.0.1'));
  },
};

const honoCase: AdapterCase = {
  name: 'hono',
  async start(auth, options = {}) {
    const { authRoutes, requireAuth } = honoAdapter;
    const app = new Hono();
    // Hono has no global body parser; an app's equivalent is middleware that reads the body
    // (a validator, a logger) through c.req.json() / c.req.parseBody(), which Hono caches.
    const parsers = () => {
      app.use('*', async (c, next) => {
        const type = c.req.header('content-type') ?? '';
        if (type.includes('json')) await c.req.json().catch(() => undefined);
        else if (type.includes('form-urlencoded')) await c.req.parseBody();
        await next();
      });
    };
    if (options.parsers === 'before') parsers();
    app.route('/auth', authRoutes(auth, authOptions(options)));
    if (options.parsers === 'after') parsers();
    app.get('/health', (c) => c.json({ ok: true }));
    app.get('/private', requireAuth(auth, authOptions(options)), (c) => {
      const user = c.get('user');
      return c.json({ id: user.id, email: user.email });
    });
    app.post('/echo', async (c) => {
      if (options.parsers === undefined || options.parsers === 'none') return c.json({ parsed: null });
      const type = c.req.header('content-type') ?? '';
      return c.json({ parsed: type.includes('json') ? await c.req.json() : await c.req.parseBody() });
    });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    return listenNode(server);
  },
};

const fastifyCase: AdapterCase = {
  name: 'fastify',
  async start(auth, options = {}) {
    const { authRoutes, requireAuth } = fastifyAdapter;
    const lines = options.logLines;
    const app = Fastify({
      logger: lines ? { level: 'error', stream: { write: (line: string) => void lines.push(line) } } : false,
    });
    // The app's own parsers in the parent scope: a form parser (what @fastify/formbody adds) and a
    // JSON parser that tags what it parsed, so a test can see which parser handled a request.
    const parsers = () => {
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
        done(null, { ...Object.fromEntries(new URLSearchParams(body as string)), parsedBy: 'app-form' });
      });
      app.removeContentTypeParser('application/json');
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
        try {
          done(null, { ...JSON.parse(body as string), parsedBy: 'app-json' });
        } catch (err) {
          done(err as Error, undefined);
        }
      });
    };
    if (options.parsers === 'before') parsers();
    await app.register(authRoutes(auth, authOptions(options)), { prefix: '/auth' });
    if (options.parsers === 'after') parsers();
    app.get('/health', async () => ({ ok: true }));
    app.get('/private', { preHandler: requireAuth(auth, authOptions(options)) }, async (request) => ({
      id: request.user!.id,
      email: request.user!.email,
    }));
    app.post('/echo', async (request) => ({
      parsed: options.parsers === undefined || options.parsers === 'none' ? null : (request.body ?? null),
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
};

/** The loop. A fourth adapter is one more line here. */
export const ADAPTERS: readonly AdapterCase[] = [expressCase, honoCase, fastifyCase];
