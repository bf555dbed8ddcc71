import { AuthKitError } from './errors.js';

/** A position in a list ordered by `created_at desc, id desc`. */
export interface KeysetPosition {
  /** ISO 8601, UTC, millisecond precision: compares correctly with both dialects' timestamps. */
  readonly createdAt: string;
  readonly id: number;
}

/** Encodes the position after a row as an opaque cursor. Internal to the list functions. */
export function encodeKeysetCursor(createdAt: Date, id: number): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeKeysetCursor}; anything else is `validation_failed`
 * naming the function (`listUsers`, `listEvents`) that hands such cursors out.
 */
export function decodeKeysetCursor(cursor: string, issuedBy: string): KeysetPosition {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && !Number.isNaN(Date.parse(createdAt)) && Number.isSafeInteger(id)) {
      return { createdAt: new Date(createdAt).toISOString(), id: id as number };
    }
  } catch {
    // fall through: a cursor is opaque, any damage makes it invalid
  }
  throw new AuthKitError('validation_failed', 'The cursor is not valid', {
    issues: [{ path: 'cursor', message: `Not a cursor returned by ${issuedBy}` }],
  });
}
