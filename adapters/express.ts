/**
 * `auth-kit/express`: the auth routes as an Express Router and `requireAuth` as middleware.
 * Translation only: the behaviour lives in auth-kit's framework-free HTTP handler.
 * @packageDocumentation
 */
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
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

/**
 * The auth-kit user, under a name that does not clash with `Express.User` (declaration bundlers
 * rename imports, and `interface User extends User` would be circular).
 *
 * @example
 * ```ts
 * const user: AuthKitUser | undefined = req.user;
 * ```
 */
export type AuthKitUser = User;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** The authenticated auth-kit user (merges with other libraries' `Express.User`, e.g. passport's). */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends AuthKitUser {}
    interface Request {
      /** Set by `requireAuth(auth)`: the authenticated user. */
      user?: User | undefined;
    }
  }
}

function bodyOf(req: Request): AuthHttpBody {
  // The stream is still unread: auth-kit reads it, counting bytes against the limit.
  if (!req.readableEnded) return { kind: 'stream', stream: req };
  // The app's parser (express.json(), express.urlencoded(), express.raw/text()) already read it.
  const body: unknown = req.body;
  if (body === undefined) return { kind: 'none' };
  if (typeof body === 'string' || body instanceof Uint8Array) return { kind: 'bytes', bytes: body };
  return { kind: 'parsed', value: body };
}

function send(res: Response, response: AuthHttpResponse, options: AuthHttpOptions): void {
  if (response.error !== undefined) (options.onError ?? logError)(response.error);
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.end(response.body);
}

function logError(error: unknown): void {
  // Express has no logger; its own final handler reports errors with console.error too.
  console.error('auth-kit: unexpected error while answering a request', error);
}

/**
 * The auth routes as an Express Router: `POST /register`, `POST /token`, `GET /me`, the session
 * and password routes, and the status route when `options.status` asks for it. Works with or
 * without the app's own body parsers, mounted before or after them. Other paths fall through to
 * the app (its normal 404). Options are checked now: a bad one throws here, not at a request.
 *
 * @example
 * ```ts
 * import { authRoutes } from 'auth-kit/express';
 * app.use('/auth', authRoutes(auth));
 * ```
 */
export function authRoutes(auth: Auth, options: AuthHttpOptions = {}): Router {
  const handler = createAuthHandler(auth, options);
  const router = Router();
  for (const path of handler.paths) {
    router.all(path, (req: Request, res: Response, next: NextFunction) => {
      if (!handler.methods.includes(req.method)) return next();
      const q = req.url.indexOf('?');
      handler
        .handle({
          method: req.method,
          path,
          headers: req.headers,
          query: q < 0 ? '' : req.url.slice(q + 1),
          body: bodyOf(req),
          // The socket's peer, not req.ip: auth-kit applies its own trustedProxies setting.
          remoteAddress: req.socket.remoteAddress,
          params: req.params as Record<string, string | undefined>,
        })
        .then((response) => send(res, response, options), next);
    });
  }
  return router;
}

/**
 * Middleware that requires `Authorization: Bearer <access token>` and sets `req.user`; otherwise
 * answers 401 with the `WWW-Authenticate` challenge.
 *
 * @example
 * ```ts
 * import { requireAuth } from 'auth-kit/express';
 * app.get('/private', requireAuth(auth), (req, res) => res.json({ email: req.user!.email }));
 * ```
 */
export function requireAuth(auth: Auth, options: AuthHttpOptions = {}): RequestHandler {
  createAuthHandler(auth, options); // validates the options now, not at the first request
  return (req, res, next) => {
    authenticateRequest(auth, req.headers).then((result) => {
      if (result.ok) {
        req.user = result.user;
        next();
      } else {
        send(res, result.response, options);
      }
    }, next);
  };
}
