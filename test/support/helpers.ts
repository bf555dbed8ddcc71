/**
 * Small shared test helpers: a settable clock, a test secret, and error capture that fails loudly
 * when nothing was thrown.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { AuthKitError, type AuthKitErrorCode, type Clock, type InvalidTokenReason } from 'auth-kit';

/** A clock the test moves by hand. */
export interface FakeClock {
  readonly now: Clock;
  set(iso: string | Date): void;
  advance(ms: number): void;
  /** Current time in whole seconds (JWT NumericDate). */
  seconds(): number;
}

export function fakeClock(start: string | Date = '2030-01-01T00:00:00.000Z'): FakeClock {
  let ms = new Date(start).getTime();
  return {
    now: () => new Date(ms),
    set(iso) {
      ms = new Date(iso).getTime();
    },
    advance(delta) {
      ms += delta;
    },
    seconds: () => Math.floor(ms / 1000),
  };
}

/** A fresh 32-byte secret, base64url (43 characters). */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A password that passes the default policy and is in no common list. */
export const GOOD_PASSWORD = 'violet-anchor-71-quartz';

/** Awaits `action` and returns what it threw; fails the test when it did not throw. */
export async function caught(action: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, but the call succeeded');
}

/** Asserts that `action` throws an {@link AuthKitError} with `code` (and `reason`), and returns it. */
export async function expectAuthKitError(
  action: Promise<unknown> | (() => unknown),
  code: AuthKitErrorCode,
  reason?: InvalidTokenReason,
): Promise<AuthKitError> {
  const err = await caught(action);
  expect(err, String(err)).toBeInstanceOf(AuthKitError);
  const e = err as AuthKitError;
  expect(e.code, e.message).toBe(code);
  if (reason !== undefined) expect(e.reason, e.message).toBe(reason);
  return e;
}

/** Yields to the event loop once (lets I/O callbacks and timers run); no wall-clock wait. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
