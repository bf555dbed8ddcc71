/**
 * The two public entry points that face guessing: the password login (the brute-force defence of
 * S18, the indistinguishable failures of S10, the events of S19) and self-registration (its
 * optional per-address limit). `createAuth` builds them; apps call `auth.login` / `auth.register`.
 *
 * ```text
 * login(username, password, context)
 *   fields present? ─no─► invalid_request / validation_failed (nothing recorded)
 *   address limit?  ─refused─► login_throttled, too_many_attempts   (only when configured)
 *   account limit?  ─refused─► login_throttled, too_many_attempts   (same answer, account or not)
 *   look up the email; exactly one argon2 verify (a dummy one for an unknown email or an overlong password)
 *   wrong, unknown or inactive ─► login_failed, invalid_credentials (one message for all three)
 *   right ─► login_succeeded (clears the count), session started
 * ```
 */
import type { Kysely } from 'kysely';
import type { Clock } from './clock.js';
import type { Settings } from './config.js';
import { fromDbBool } from './database/dialect.js';
import { prepareQuery } from './database/prepared.js';
import type { AuthKitDatabase } from './database/types.js';
import { AuthKitError } from './errors.js';
import { type AttemptAllowance, checkAddressAllowed, checkLoginAllowed, tooManyAttempts } from './throttle.js';
import { type AuthEvent, type EventRecorder, MAX_EVENT_EMAIL_LENGTH, storeEvent } from './events.js';
import { MAX_PASSWORD_CODE_POINTS, type PasswordHasher, codePointLength, normalizePassword } from './passwords.js';
import { type PasswordPolicy, parseInput, userSchemas } from './schemas.js';
import { type ClientContext, type SessionManager, type TokenResponse, cleanContext, requireString } from './sessions.js';
import { type User, asAuthDb } from './user-store.js';
import type { UserService } from './users.js';

/** Public registration input: privileged fields (`isActive`, `id`, …) are ignored (S7). */
export interface RegisterInput {
  readonly email: string;
  readonly password: string;
  readonly fullName?: string | null;
}

/** The resource-owner password credentials of a login (RFC 6749 4.3). `username` is the email. */
export interface LoginInput {
  readonly username: string;
  readonly password: string;
}

/** What the login and registration flows need; `createAuth` passes its own services. Internal. */
export interface LoginFlowOptions {
  readonly clock: Clock;
  readonly settings: Settings;
  readonly passwords: PasswordHasher;
  readonly passwordPolicy: PasswordPolicy;
  readonly users: UserService;
  readonly sessions: SessionManager;
  /** `record` stores and announces; `announce` calls the app's hook for an event stored in a transaction. */
  readonly events: Pick<EventRecorder, 'record'> & { announce(event: AuthEvent): void };
}

/** The flows behind `auth.login` and `auth.register`. Internal. */
export interface LoginFlows {
  login(input: LoginInput, context?: ClientContext): Promise<TokenResponse>;
  register(input: RegisterInput, context?: ClientContext): Promise<User>;
}

const INCORRECT = 'Incorrect email or password';

/** The one read of a login that touches `auth_users`; prepared once per handle. */
const credentialsByEmail = prepareQuery(1, (db: Kysely<AuthKitDatabase>, email: string) =>
  db.selectFrom('auth_users').select(['id', 'is_active', 'hashed_password', 'token_version']).where('email', '=', email),
);

/**
 * The stand-in subject of the session an unknown email draws (see `login`): an id beyond any
 * integer key a database hands out. Its session is never stored and its token never leaves.
 */
const NO_ACCOUNT_SUBJECT = Object.freeze({ id: Number.MAX_SAFE_INTEGER, tokenVersion: 0 });

/**
 * An overlong password is never hashed (S5): the dummy verify that keeps the cost of the failure
 * the same runs on this stand-in instead.
 */
const OVERLONG_STAND_IN = 'overlong-password-stand-in';

/**
 * Longer than any password a user could have registered, without normalising it: a valid password
 * has at most 1024 code points after NFKC, and no input needs more than 16 UTF-16 units for one
 * of them. Saves normalising megabytes a direct caller might pass.
 */
const SURELY_OVERLONG_UNITS = MAX_PASSWORD_CODE_POINTS * 16;

function isOverlong(password: string): boolean {
  return password.length > SURELY_OVERLONG_UNITS || codePointLength(normalizePassword(password)) > MAX_PASSWORD_CODE_POINTS;
}

/**
 * The one key a login attempt is looked up, counted and recorded under. It must be exactly the
 * email the event log stores (control characters blanked, trimmed, lower-cased, cut at
 * {@link MAX_EVENT_EMAIL_LENGTH}): were it not, `"ada@example.com\u0000"` would be checked under
 * one key and counted under Ada's, adding failures to her account without ever being throttled.
 * The result is a fixed point of the event log's own normalisation.
 *
 * @example
 * ```ts
 * loginKey(' Ada@Example.com\n'); // "ada@example.com"
 * ```
 */
export function loginKey(username: string): string {
  // eslint-disable-next-line no-control-regex
  const blanked = username.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return blanked.trim().toLowerCase().slice(0, MAX_EVENT_EMAIL_LENGTH).trim();
}

/**
 * Creates the login and registration flows over the kit's tables. `createAuth` builds them; apps
 * call `auth.login` and `auth.register`.
 *
 * @example
 * ```ts
 * const flows = createLoginFlows(db, { clock, settings, passwords, passwordPolicy, users, sessions, events });
 * const tokens = await flows.login({ username: 'ada@example.com', password }, { clientAddress: '203.0.113.9' });
 * ```
 */
export function createLoginFlows(db: Kysely<any>, options: LoginFlowOptions): LoginFlows {
  const kdb = asAuthDb(db);
  const { clock, settings, passwords, users, sessions, events } = options;
  const schemas = userSchemas(options.passwordPolicy);

  /** Throws `too_many_attempts` for a refused verdict, after recording `login_throttled`. */
  async function refuseLogin(verdict: AttemptAllowance, email: string, ctx: ReturnType<typeof cleanContext>) {
    if (verdict.allowed) return;
    await events.record('login_throttled', { email, ...ctx });
    throw tooManyAttempts(verdict.retryAfterSeconds);
  }

  const flows: LoginFlows = {
    async login(input, context) {
      const username = requireString(input?.username, 'username');
      const password = requireString(input?.password, 'password');
      const email = loginKey(username);
      const ctx = cleanContext(context);
      const now = clock();
      const windowMinutes = settings.lockoutWindowMinutes;
      if (settings.maxFailedLoginsPerAddress > 0) {
        const byAddress = await checkAddressAllowed(kdb, ctx.clientAddress, {
          now,
          limit: settings.maxFailedLoginsPerAddress,
          windowMinutes,
          type: 'login_failed',
        });
        await refuseLogin(byAddress, email, ctx);
      }
      // Before the lookup and before argon2: the verdict depends only on the email's events, so it
      // is the same for an account that exists and one that does not (S18), and costs no hashing.
      await refuseLogin(
        await checkLoginAllowed(kdb, email, { now, maxFailedLogins: settings.maxFailedLogins, windowMinutes }),
        email,
        ctx,
      );

      const row = (await credentialsByEmail(kdb, email)).rows[0];
      // Drawn before the hash so the token's signature (a thread-pool round trip) runs while argon2
      // does. Nothing is stored or handed out unless the password verifies: a failed login drops it
      // unseen. An unknown email draws one for a subject no account can have, so that every path
      // does the same work (S10).
      const session = sessions.prepare(
        row ? { id: Number(row.id), tokenVersion: Number(row.token_version) } : NO_ACCOUNT_SUBJECT,
      );
      let ok = false;
      if (isOverlong(password)) {
        // Could never have been registered (S5): no real verify, but the same one argon2 run (S10).
        await passwords.verifyDummy(OVERLONG_STAND_IN);
      } else if (!row) {
        // Same work as a known account: one argon2 verify (S10).
        await passwords.verifyDummy(password);
      } else {
        ok = await passwords.verify(row.hashed_password, password);
      }
      if (!row || !ok || !fromDbBool(row.is_active)) {
        // Recorded before answering: the lockout counts these rows, so an unrecorded failure would
        // be a free guess. If the row cannot be stored, the request fails instead.
        await events.record('login_failed', { userId: row ? Number(row.id) : null, email, ...ctx });
        throw new AuthKitError('invalid_credentials', INCORRECT);
      }
      if (passwords.needsRehash(row.hashed_password)) {
        // Upgrade the stored hash to the current parameters (S3). Only if it is still the one we
        // verified, so a concurrent password change is never overwritten.
        const upgraded = await passwords.hash(password);
        await kdb
          .updateTable('auth_users')
          .set({ hashed_password: upgraded })
          .where('id', '=', row.id)
          .where('hashed_password', '=', row.hashed_password)
          .execute();
      }
      // One transaction: no session ever exists without its login_succeeded (which also clears the
      // email's failure count), and one commit (one fsync) serves both rows.
      const userId = Number(row.id);
      let succeeded: AuthEvent | undefined;
      const tokens = await sessions.start(session, context, async (trx) => {
        succeeded = await storeEvent(trx, { type: 'login_succeeded', userId, email, ...ctx }, clock);
      });
      if (succeeded) events.announce(succeeded);
      return tokens;
    },

    async register(input, context) {
      const data = parseInput(schemas.register, input);
      const ctx = cleanContext(context);
      if (settings.maxRegistrationsPerAddress > 0) {
        const verdict = await checkAddressAllowed(kdb, ctx.clientAddress, {
          now: clock(),
          limit: settings.maxRegistrationsPerAddress,
          windowMinutes: settings.lockoutWindowMinutes,
          type: 'user_registered',
        });
        if (!verdict.allowed) throw tooManyAttempts(verdict.retryAfterSeconds);
      }
      const user = await users.createUser({ email: data.email, password: data.password, fullName: data.fullName });
      await events.record('user_registered', { userId: user.id, email: user.email, ...ctx });
      return user;
    },
  };
  return Object.freeze(flows);
}
