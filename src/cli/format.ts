/**
 * What the session, event and status commands share: durations (`90d`), `--since` values,
 * `--limit`, UTC times for tables, and table cells that are safe to print (text that came from a
 * client, such as a user agent, never reaches the terminal as control characters).
 */
import { UsageError } from './command.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The longest duration accepted: 100 years, far beyond any retention, well inside a Date. */
const MAX_DURATION_MS = 100 * 365 * UNIT_MS.d;

/**
 * Milliseconds of a duration such as `30s`, `15m`, `24h` or `90d` (a whole number and one unit);
 * null when `text` is not one. Zero is not a duration.
 */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,9})([smhd])$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : null;
}

/**
 * The time a `--since` value names: a duration back from `now` (`24h`, `7d`), or an ISO 8601
 * date or date-time (`2025-01-31`, `2025-01-31T12:00:00Z`; a date alone is midnight UTC).
 */
export function parseSince(text: string, now: Date, option = '--since'): Date {
  const ms = parseDuration(text);
  if (ms !== null) return new Date(now.getTime() - ms);
  // Date.parse also takes free text ("May 5"); only ISO forms are meant here.
  if (/^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$/i.test(text.trim())) {
    const at = new Date(text.trim());
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw new UsageError(`${option} must be a duration such as 24h or 7d (units s, m, h, d) or an ISO date such as 2025-01-31`);
}

/** Checks a `--limit` value: a whole number from 1 to `max` (default `fallback`). */
export function parseLimit(text: string | undefined, fallback: number, max = 1000): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > max) throw new UsageError(`--limit must be a whole number from 1 to ${max}`);
  return n;
}

/** `2025-01-31 14:02:09`, UTC, for tables. */
export function utc(date: Date | null): string {
  return date === null ? '-' : date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/**
 * A table cell: control characters blanked (a stored user agent could carry escape codes),
 * `-` for nothing, cut to `max` characters with an ellipsis.
 */
export function cell(value: string | number | null | undefined, max = 60): string {
  if (value === null || value === undefined || value === '') return '-';
  // eslint-disable-next-line no-control-regex
  const text = String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `1 session`, `2 sessions`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
