/**
 * Random identifiers for the hot paths (session ids, refresh tokens, token ids), drawn from a
 * pool of CSPRNG bytes. Every `crypto.randomBytes` call costs a system call (OpenSSL's fork
 * check), about 4 µs here; a login needs four of them. The pool is refilled from
 * `crypto.randomFillSync` 4 KiB at a time and every byte is handed out once, as Node does for
 * `crypto.randomUUID`.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * `bytes` fresh random bytes (at most 4096) as base64url, never handed out before.
 *
 * @example
 * ```ts
 * randomBase64url(16); // 22 characters, 128 bits
 * ```
 */
export function randomBase64url(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > POOL_BYTES) throw new RangeError('randomBase64url: 1 to 4096 bytes');
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  const value = pool.toString('base64url', start, offset);
  // Nothing handed out stays readable in the pool.
  pool.fill(0, start, offset);
  return value;
}
