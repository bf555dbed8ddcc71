/**
 * `auth-kit/hono`: the auth routes as a Hono app and `requireAuth` as middleware that sets
 * `c.get('user')`. Translation only: the behaviour lives in auth-kit's framework-free HTTP handler.
 * @packageDocumentation
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import {
  type Auth,
  type AuthHttpBody,
  type AuthHttpHeaders,
  type AuthHttpOptions,
  type AuthHttpResponse,
  type User,
  authenticateRequest,
  createAuthHandler,
} from 'auth-kit';

export type { AuthHttpOptions } from 'auth-kit';

/**
 * The context variables `requireAuth` sets.
 *
 * @example
 * ```ts
 * const app = new Hono<{ Variables: AuthVariables }>();
 * app.use('/private/*', requireAuth(auth));
 * app.get('/private/me', (c) => c.json(c.get('user')));
 * ```
 */
export type AuthVariables = { user: User };

/**
 * The Hono environment of a route behind `requireAuth`; use it as `new Hono<AuthEnv>()` when the
 * middleware is mounted with `app.use()` (inline, `app.get(path, requireAuth(auth), handler)`
 * types `c.get('user')` by itself).
 *
 * @example
 * ```ts
 * const app = new Hono<AuthEnv>();
 * ```
 */
export type AuthEnv = { Variables: AuthVariables };

type BodyCache = Partial<Record<'json' | 'text' | 'arrayBuffer' | 'blob' | 'formData', Promise<unknown>>>;

async function bodyOf(c: Context): Promise<AuthHttpBody> {
  const cache = c.req.bodyCache as BodyCache;
  if (cache.formData) {
    // The app already ran c.req.parseBody()/formData(): use the parsed fields.
    const value: Record<string, unknown> = Object.create(null);
    for (const [key, field] of (await cache.formData) as FormData) {
      const previous = value[key];
      value[key] = previous === undefined ? field : Array.isArray(previous) ? [...previous, field] : [previous, field];
    }
    return { kind: 'parsed', value };
  }
  // The app already read the body through c.req.json()/text()/…: Hono has it cached.
  if (Object.keys(cache).length > 0) return { kind: 'bytes', bytes: new Uint8Array(await c.req.arrayBuffer()) };
  // GET and HEAD carry no body: not touching c.req.raw.body spares @hono/node-server building a
  // full Fetch Request (and its stream) on every authenticated GET.
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return { kind: 'none' };
  // On @hono/node-server, the Node request itself when nobody has started reading it: iterating it
  // directly spares converting it to a Fetch ReadableStream on every POST.
  const incoming = incomingOf(c);
  if (incoming !== undefined && isUnreadNodeStream(incoming)) return { kind: 'stream', stream: incoming };
  const stream = c.req.raw.body;
  return stream ? { kind: 'stream', stream: stream as unknown as AsyncIterable<Uint8Array> } : { kind: 'none' };
}

/**
 * Answers with auth-kit's response. `routeHandler` is true only for the handlers `authRoutes`
 * registers, which an app cannot wrap: for them `c.req.routeIndex` (Hono's index of the handler
 * now running, set by its compose) is 0 exactly when no middleware ran before, so nothing can have
 * called `c.header()`, `c.status()` or touched `c.res`. `requireAuth` can be wrapped (by Hono's
 * `every()`, which resets that index, or by the app's own middleware), so it never takes that path.
 */
function send(c: Context, response: AuthHttpResponse, options: AuthHttpOptions, routeHandler: boolean): Response {
  if (response.error !== undefined) (options.onError ?? logError)(response.error);
  // A 204 must have no body at all: the Fetch Response refuses even an empty string.
  const body = response.status === 204 ? null : response.body;
  // First in the chain: a Response built here is exactly what c.body() would build, minus the Fetch
  // Headers object c.body() makes for more than one header, which @hono/node-server then turns back
  // into a plain object.
  if (routeHandler && c.req.routeIndex === 0) return new Response(body, { status: response.status, headers: response.headers });
  // Otherwise through the context, keeping what earlier middleware set. Ours go in with c.header():
  // when middleware has touched c.res, Hono copies c.res's headers over the returned response, and
  // this way they carry our values (a Cache-Control set before next() cannot undo no-store).
  for (const name in response.headers) c.header(name, response.headers[name]);
  if (body === null) return c.body(null, 204);
  return c.body(body, response.status as ContentfulStatusCode);
}

function logError(error: unknown): void {
  // What Hono's own default error handler does.
  console.error('auth-kit: unexpected error while answering a request', error);
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

type NodeIncoming = {
  url?: string;
  socket?: { remoteAddress?: string };
  headers?: Record<string, string | string[] | undefined>;
  readableDidRead?: boolean;
  listenerCount?: (event: string) => number;
  [Symbol.asyncIterator]?: unknown;
};

/**
 * A Node `IncomingMessage` no one has read from, or is about to (a Fetch stream made from it
 * listens for its data), yet.
 */
function isUnreadNodeStream(incoming: NodeIncoming): incoming is NodeIncoming & AsyncIterable<Uint8Array> {
  return (
    incoming.readableDidRead === false &&
    typeof incoming.listenerCount === 'function' &&
    incoming.listenerCount('data') === 0 &&
    incoming.listenerCount('readable') === 0 &&
    typeof incoming[Symbol.asyncIterator] === 'function'
  );
}

/** @hono/node-server passes the Node request as `c.env.incoming`; other runtimes differ. */
function incomingOf(c: Context): NodeIncoming | undefined {
  return (c.env as { incoming?: NodeIncoming } | undefined)?.incoming;
}

function remoteAddressOf(c: Context): string | undefined {
  return incomingOf(c)?.socket?.remoteAddress;
}

/** The Node request's header object when there is one (no Fetch `Headers` to build), else the Fetch one. */
function headersOf(c: Context): AuthHttpHeaders {
  return incomingOf(c)?.headers ?? c.req.raw.headers;
}

/**
 * The auth routes as a Hono app: `POST /register`, `POST /token`, `GET /me`, the session and
 * password routes, and the status route when `options.status` asks for it. Works whether or not
 * the app's middleware already read the body. Other paths are the app's (its normal 404).
 * Options are checked now: a bad one throws here, not at a request.
 *
 * @example
 * ```ts
 * import { authRoutes } from 'auth-kit/hono';
 * app.route('/auth', authRoutes(auth));
 * ```
 */
export function authRoutes(auth: Auth, options: AuthHttpOptions = {}): Hono {
  const handler = createAuthHandler(auth, options);
  const app = new Hono();
  for (const path of handler.paths) {
    const hasParams = path.includes(':');
    app.on([...handler.methods], path, async (c) => {
      // The Node request's own path when there is one: the Fetch URL is built on first use.
      const url = incomingOf(c)?.url ?? c.req.url;
      const q = url.indexOf('?');
      const response = await handler.handle({
        method: c.req.method,
        path,
        headers: headersOf(c),
        query: q < 0 ? '' : url.slice(q + 1),
        body: await bodyOf(c),
        remoteAddress: remoteAddressOf(c),
        params: hasParams ? c.req.param() : NO_PARAMS,
      });
      return send(c, response, options, true);
    });
  }
  return app;
}

/**
 * Middleware that requires `Authorization: Bearer <access token>` and sets `c.get('user')`;
 * otherwise answers 401 with the `WWW-Authenticate` challenge.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'auth-kit/hono';
 * app.get('/private', requireAuth(auth), (c) => c.json({ email: c.get('user').email }));
 * ```
 */
export function requireAuth(auth: Auth, options: AuthHttpOptions = {}): MiddlewareHandler<AuthEnv> {
  createAuthHandler(auth, options); // validates the options now, not at the first request
  return async (c, next) => {
    const result = await authenticateRequest(auth, headersOf(c));
    if (!result.ok) return send(c, result.response, options, false);
    c.set('user', result.user);
    await next();
  };
}
