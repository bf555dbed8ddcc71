/**
 * Housekeeping for the credential tables. A login adds a session row and every refresh another
 * (the spent one stays, for reuse detection); a reset request adds a token row. Nothing in the
 * flows deletes them, so run {@link pruneExpired} on a schedule (`auth.pruneExpired()`, or
 * `auth-kit prune` from cron).
 */
import type { Kysely } from 'kysely';
import { toDbTime } from './database/dialect.js';
import type { AuthKitDatabase } from './database/types.js';
import { validDate } from './events.js';

/** Options of {@link pruneExpired}. */
export interface PruneExpiredOptions {
  /** The current time. Default: now. */
  readonly now?: Date;
}

/** What {@link pruneExpired} deleted. */
export interface PruneExpiredResult {
  /** Session rows (current and spent refresh tokens) of sessions past their absolute lifetime. */
  readonly sessions: number;
  /** Password-reset tokens that are used or expired. */
  readonly passwordResetTokens: number;
}

/**
 * Deletes what can never be accepted again: every row of a session whose absolute lifetime has
 * ended (its refresh tokens, current and spent), and password-reset tokens that are used or
 * expired. Live sessions keep their spent rows, so reuse detection (S17) is untouched; a token of a
 * deleted row is refused exactly as before (`invalid_grant`), only no longer reported as
 * `refresh_reuse_detected`. Events are pruned separately (`pruneEvents`): they are the audit trail.
 *
 * @example
 * ```ts
 * const { sessions, passwordResetTokens } = await pruneExpired(db); // e.g. nightly
 * ```
 */
export async function pruneExpired(db: Kysely<any>, options: PruneExpiredOptions = {}): Promise<PruneExpiredResult> {
  const now = toDbTime(options?.now === undefined ? new Date() : validDate(options.now, 'now'));
  const kdb = db as Kysely<AuthKitDatabase>;
  const sessions = await kdb.deleteFrom('auth_sessions').where('expires_at', '<=', now).executeTakeFirst();
  const resets = await kdb
    .deleteFrom('auth_password_reset_tokens')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('used_at', 'is not', null)]))
    .executeTakeFirst();
  return { sessions: Number(sessions.numDeletedRows), passwordResetTokens: Number(resets.numDeletedRows) };
}
