/**
 * auth-kit dashboard example: a plain `node:http` app that serves the auth status card.
 *
 *   npx tsx examples/dashboard/server.ts          # then open http://127.0.0.1:3000/
 *
 * It opens a database (DATABASE_URL, default sqlite:///./dashboard.db), migrates it, and — when it
 * has no users yet — seeds a scripted day of activity through the library: registrations, logins,
 * a trickle of failed logins and a guessing burst that the lockout stops. Then it serves
 *
 *   GET /             the page from renderAuthDashboard(await getAuthStatus(auth))
 *   GET /status.json  the same status as JSON
 *
 * Environment: PORT (default 3000; 0 picks a free port), HOST (default 127.0.0.1),
 * JWT_SECRET_KEY (default: a throw-away one), DASHBOARD_SEED=0 to skip the seed.
 * A real app guards these routes: the status reveals user counts.
 */
import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { Kysely } from 'kysely';
import {
  type Auth,
  type AuthEventDetails,
  type AuthEventType,
  type EventRecorder,
  checkLoginAllowed,
  createAuth,
  createEventRecorder,
  getAuthStatus,
  isAuthKitError,
  loadSettings,
  migrate,
  openDatabase,
  renderAuthDashboard,
} from 'auth-kit';

/** A clock the seed moves through a scripted day; `null` means real time. */
function scriptedClock() {
  let at: number | null = null;
  return {
    now: () => new Date(at ?? Date.now()),
    set: (ms: number | null) => {
      at = ms;
    },
  };
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** The people of the demo; two will be deactivated. */
const PEOPLE = [
  'ada', 'grace', 'alan', 'edsger', 'barbara', 'donald', 'margaret', 'ken', 'dennis', 'frances', 'john', 'radia',
].map((name) => ({ email: `${name}@example.com`, password: `${name}-demo-passphrase-${name.length}` }));

interface SeedContext {
  readonly auth: Auth;
  readonly db: Kysely<any>;
  readonly events: EventRecorder;
  readonly clock: ReturnType<typeof scriptedClock>;
}

async function countEvents(db: Kysely<any>, type: AuthEventType): Promise<number> {
  const row = await db
    .selectFrom('auth_events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('type', '=', type)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Runs `action` (a library flow) and makes sure its event is in the log: the flows of createAuth
 * do not record events yet, so the seed records it unless the library already did.
 */
async function recorded<T>(ctx: SeedContext, type: AuthEventType, details: AuthEventDetails, action: () => Promise<T>): Promise<T | undefined> {
  const before = await countEvents(ctx.db, type);
  try {
    return await action();
  } catch (err) {
    if (!isAuthKitError(err)) throw err;
    return undefined;
  } finally {
    if ((await countEvents(ctx.db, type)) === before) await ctx.events.record(type, details);
  }
}

/** One password login attempt as the HTTP layer will make it: lockout check, then the flow. */
async function attemptLogin(ctx: SeedContext, email: string, password: string, clientAddress: string): Promise<void> {
  const userAgent = 'Mozilla/5.0 (demo)';
  const verdict = await checkLoginAllowed(ctx.db, email, {
    now: ctx.clock.now(),
    maxFailedLogins: ctx.auth.settings.maxFailedLogins,
    windowMinutes: ctx.auth.settings.lockoutWindowMinutes,
  });
  if (!verdict.allowed) {
    await ctx.events.record('login_throttled', { email, clientAddress, userAgent });
    return;
  }
  const user = await ctx.auth.users.getUserByEmail(email);
  const ok = user !== null && user.isActive && PEOPLE.some((p) => p.email === email && p.password === password);
  await recorded(ctx, ok ? 'login_succeeded' : 'login_failed', { email, userId: ok ? user!.id : null, clientAddress, userAgent }, () =>
    ctx.auth.login({ username: email, password }, { clientAddress, userAgent }),
  );
}

/**
 * Seeds a scripted day through the library: 12 registrations, 2 deactivations, logins, a trickle of
 * typos and a guessing burst against one account that the lockout refuses after five failures.
 *
 * @example
 * ```ts
 * await seedDemo(auth, db);
 * ```
 */
export async function seedDemo(auth: Auth, db: Kysely<any>, clock: ReturnType<typeof scriptedClock>): Promise<void> {
  const events = createEventRecorder(db, { clock: clock.now });
  const ctx: SeedContext = { auth, db, events, clock };
  const start = Math.floor(Date.now() / MINUTE) * MINUTE - 30 * HOUR;
  const at = (hoursAfterStart: number) => clock.set(start + hoursAfterStart * HOUR);

  for (const [i, person] of PEOPLE.entries()) {
    at(i * 0.5);
    const user = await recorded(ctx, 'user_registered', { email: person.email, clientAddress: `198.51.100.${10 + i}` }, () =>
      auth.register({ email: person.email, password: person.password, fullName: person.email.split('@')[0] }),
    );
    if (user) {
      // The event of a registration belongs to the new user.
      await db.updateTable('auth_events').set({ user_id: user.id }).where('type', '=', 'user_registered').where('email', '=', person.email).execute();
    }
  }
  for (const [i, email] of ['john@example.com', 'radia@example.com'].entries()) {
    at(7 + i);
    const user = await auth.users.getUserByEmail(email);
    if (user) await recorded(ctx, 'user_deactivated', { userId: user.id, email }, () => auth.users.deactivateUser(user.id));
  }

  // Logins through the day, with the odd typo; the last hours are the busiest.
  const day = [
    [8, 'ada', true], [8.2, 'grace', false], [8.25, 'grace', true], [9, 'alan', true], [10.5, 'edsger', true],
    [11, 'barbara', false], [11.1, 'barbara', true], [13, 'donald', true], [14, 'margaret', false], [14.05, 'margaret', false],
    [14.1, 'margaret', true], [16, 'ken', true], [17.5, 'dennis', false], [17.6, 'dennis', true], [19, 'frances', true],
    [21, 'ada', false], [21.1, 'ada', true], [22.4, 'john', false], [25, 'grace', true], [26.2, 'alan', false],
    [26.3, 'alan', true], [27.5, 'ken', false], [28.2, 'edsger', true], [29.1, 'barbara', false], [29.4, 'donald', true],
  ] as const;
  for (const [hour, name, right] of day) {
    at(hour);
    const person = PEOPLE.find((p) => p.email.startsWith(`${name}@`))!;
    await attemptLogin(ctx, person.email, right ? person.password : `${person.password}!`, '203.0.113.40');
  }

  // A guessing burst at one account, four attempts a minute from one address: five failures, then
  // the growing delay refuses most of the rest (recorded as login_throttled).
  for (let k = 0; k < 16; k++) {
    at(23 + (k * 15 * 1000) / HOUR);
    await attemptLogin(ctx, 'margaret@example.com', `guess-${k}-123456`, '192.0.2.66');
  }
  // Guesses at accounts that do not exist count the same way.
  for (let k = 0; k < 6; k++) {
    at(27 + k * 0.1);
    await attemptLogin(ctx, `admin${k % 2 ? '' : 'istrator'}@example.com`, 'password1', '192.0.2.67');
  }
  clock.set(null);
}

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  readonly databaseUrl?: string;
  readonly port?: number;
  readonly host?: string;
  readonly seed?: boolean;
  readonly env?: Record<string, string | undefined>;
}

/** A running dashboard. */
export interface RunningDashboard {
  readonly url: string;
  readonly server: Server;
  readonly auth: Auth;
  close(): Promise<void>;
}

/**
 * Opens and migrates the database, seeds it when empty, and serves the status page.
 *
 * @example
 * ```ts
 * const dashboard = await startDashboard({ port: 0 });
 * console.log(dashboard.url);
 * ```
 */
export async function startDashboard(options: DashboardOptions = {}): Promise<RunningDashboard> {
  const env = { ...(options.env ?? process.env) };
  env.JWT_SECRET_KEY ||= randomBytes(32).toString('base64url'); // throw-away: this demo issues no lasting tokens
  const settings = loadSettings(env);
  const db = openDatabase(options.databaseUrl ?? env.DATABASE_URL ?? 'sqlite:///./dashboard.db');
  await migrate(db);
  const clock = scriptedClock();
  const auth = createAuth({ db, settings, clock: clock.now });
  if ((options.seed ?? env.DASHBOARD_SEED !== '0') && (await auth.users.countUsers()) === 0) await seedDemo(auth, db, clock);

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const security = {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      // The page loads nothing and runs nothing: prove it.
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...security, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('Method Not Allowed\n');
      return;
    }
    if (path !== '/' && path !== '/status.json') {
      res.writeHead(404, { ...security, 'content-type': 'text/plain; charset=utf-8' }).end('Not Found\n');
      return;
    }
    getAuthStatus(auth).then(
      (status) => {
        const html = path === '/';
        const body = html ? renderAuthDashboard(status, { refreshSeconds: 30 }) : `${JSON.stringify(status, null, 2)}\n`;
        res.writeHead(status.status === 'unhealthy' && !html ? 503 : 200, {
          ...security,
          'content-type': html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => res.writeHead(500, security).end(),
    );
  });
  const host = options.host ?? env.HOST ?? '127.0.0.1';
  const port = options.port ?? Number(env.PORT ?? 3000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as { port: number };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`,
    server,
    auth,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.destroy();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dashboard = await startDashboard();
  console.log(`auth-kit dashboard listening on ${dashboard.url}`);
  const stop = () => void dashboard.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
