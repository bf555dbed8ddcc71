/**
 * `auth-kit/fastify`: the auth routes as an encapsulated Fastify plugin and `requireAuth` as a
 * preHandler that sets `request.user`. Translation only: the behaviour lives in auth-kit's
 * framework-free HTTP handler. Only Fastify's types are imported; nothing of Fastify is loaded.
 * @packageDocumentation
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import {
  type Auth,
  type AuthHttpBody,
  type AuthHttpOptions,
  type AuthHttpResponse,
  type User,
  authenticateRequest,
  createAuthHandler,
} from 'auth-kit';

export type { AuthHttpOptions } from 'auth-kit';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireAuth(auth)`: the authenticated auth-kit user. */
    user?: User;
  }
}

type FastifyMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function bodyOf(request: FastifyRequest): AuthHttpBody {
  // Inside the plugin the only content-type parser hands over the unread stream (see below).
  const body = request.body as AsyncIterable<Uint8Array> | undefined;
  return body === undefined || body === null ? { kind: 'none' } : { kind: 'stream', stream: body };
}

function send(request: FastifyRequest, reply: FastifyReply, response: AuthHttpResponse, options: AuthHttpOptions): FastifyReply {
  if (response.error !== undefined) {
    if (options.onError) options.onError(response.error);
    else request.log.error({ err: response.error }, 'auth-kit: unexpected error while answering a request');
  }
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/**
 * The auth routes as a Fastify plugin: `POST /register`, `POST /token`, `GET /me`, the session
 * and password routes, and the status route when `options.status` asks for it (options are
 * checked when `authRoutes` is called, before `register`). It is encapsulated (not wrapped in
 * fastify-plugin): its content-type parsing, which hands the raw body
 * to auth-kit (size counted as it streams), applies inside it only, so the app's own parsers
 * (`@fastify/formbody`, custom ones) neither affect it nor are affected. The prefix is the app's.
 *
 * @example
 * ```ts
 * import { authRoutes } from 'auth-kit/fastify';
 * await app.register(authRoutes(auth), { prefix: '/auth' });
 * ```
 */
export function authRoutes(auth: Auth, options: AuthHttpOptions = {}): FastifyPluginAsync {
  const handler = createAuthHandler(auth, options);
  // HEAD comes with GET (Fastify's exposeHeadRoutes).
  const methods = handler.methods.filter((m) => m !== 'HEAD') as FastifyMethod[];
  return async function authKitRoutes(app) {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    for (const path of handler.paths) {
      app.route({
        method: methods,
        url: path,
        handler: async (request, reply) => {
          const q = request.url.indexOf('?');
          const response = await handler.handle({
            method: request.method,
            path,
            headers: request.headers,
            query: q < 0 ? '' : request.url.slice(q + 1),
            body: bodyOf(request),
            // The socket's peer, not request.ip: auth-kit applies its own trustedProxies setting.
            remoteAddress: request.socket.remoteAddress,
            params: request.params as Record<string, string | undefined>,
          });
          return send(request, reply, response, options);
        },
      });
    }
  };
}

/**
 * A preHandler that requires `Authorization: Bearer <access token>` and sets `request.user`;
 * otherwise answers 401 with the `WWW-Authenticate` challenge.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'auth-kit/fastify';
 * app.get('/private', { preHandler: requireAuth(auth) }, async (request) => ({ email: request.user!.email }));
 * ```
 */
export function requireAuth(auth: Auth, options: AuthHttpOptions = {}): preHandlerAsyncHookHandler {
  createAuthHandler(auth, options); // validates the options now, not at the first request
  return async function requireAuthKitUser(request, reply) {
    const result = await authenticateRequest(auth, request.headers);
    if (result.ok) {
      request.user = result.user;
      return;
    }
    return send(request, reply, result.response, options);
  };
}
