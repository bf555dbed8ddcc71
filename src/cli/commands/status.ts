import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { type AuthStatus, type Settings, createAuth, getAuthStatus, loadSettings, openDatabase, parseDatabaseUrl } from 'auth-kit';
import { CliError, UsageError, defineCommand } from '../command.js';
import { databaseUrlOf, labelOf } from '../database.js';
import { cell, utc } from '../format.js';
import type { Style } from '../output.js';

/** The widest bar of the failed-logins chart, in characters. */
const BAR_WIDTH = 40;

export default defineCommand({
  meta: {
    name: 'status',
    description: 'Check auth end to end: counts, token self-test, configuration issues',
    details:
      'Prints what getAuthStatus(auth) returns, the data of the dashboard card: healthy, warning or\n' +
      'unhealthy, with users, failed logins (24 hours, and per hour as a bar chart), active\n' +
      'sessions, the token self-test, the security features enabled and any configuration issue.\n' +
      'Settings come from the environment, as in the app (JWT_SECRET_KEY is required: the\n' +
      'self-test signs and verifies a token with it; AUTH_* and JWT_* as set).\n' +
      'Exit codes: 0 healthy or warning, 1 unhealthy (or a failure), 2 usage error; so\n' +
      '`auth-kit status >/dev/null` works as a health check.',
    examples: [
      'auth-kit status',
      'auth-kit status --json',
      "auth-kit status --json | jq '.metadata.failedLogins24h'",
      'JWT_SECRET_KEY=… auth-kit status --database-url postgres://app@localhost/app',
    ],
  },
  args: {
    json: { type: 'boolean', description: 'Print the status object as JSON (exit code as above)' },
    timeout: {
      type: 'string',
      valueHint: 'seconds',
      description: 'A database that does not answer within this is unhealthy, 1 to 600',
      defaultText: '5',
    },
  },
  async run({ args, io, out }) {
    const timeoutSeconds = args.timeout === undefined ? 5 : Number(args.timeout);
    if (!/^\d+$/.test(args.timeout ?? '5') || timeoutSeconds < 1 || timeoutSeconds > 600) {
      throw new UsageError('--timeout must be a whole number of seconds from 1 to 600');
    }
    if (!io.env.JWT_SECRET_KEY) {
      throw new CliError(
        "JWT_SECRET_KEY is not set: status needs your app's token secret (its self-test signs and verifies a token with it). " +
          'Set it as your app does, or make a new one with `auth-kit secret`',
      );
    }
    let settings: Settings;
    try {
      settings = loadSettings(io.env);
    } catch (err) {
      throw new CliError(`${(err as Error).message}. Fix the environment variable or unset it`, 1, { cause: err });
    }
    const url = databaseUrlOf(args['database-url'], io.env);
    const label = labelOf(url);
    let target;
    try {
      target = parseDatabaseUrl(url);
    } catch (err) {
      throw new CliError(`${(err as Error).message}. Pass --database-url or set DATABASE_URL`, 1, { cause: err });
    }
    if (target.dialect === 'sqlite' && target.filename !== ':memory:') {
      // Opening a missing SQLite file would create it: a status check must change nothing.
      const path = isAbsolute(target.filename) ? target.filename : resolve(io.cwd, target.filename);
      if (!existsSync(path)) {
        throw new CliError(
          `unhealthy: there is no database at ${label} (${path} does not exist). ` +
            'Create it with `auth-kit migrate`, or pass --database-url',
        );
      }
    }
    const db = openDatabase(url);
    let status: AuthStatus;
    try {
      status = await getAuthStatus(createAuth({ db, settings: { ...settings, databaseUrl: url } }), {
        timeoutMs: timeoutSeconds * 1000,
      });
    } finally {
      // A database that never answered may keep its connection attempt open for minutes: closing
      // the pool would wait for it. The bin exits once the output is written, so wait only briefly.
      await Promise.race([db.destroy().catch(() => undefined), delay(1000)]);
    }
    if (args.json) out.json(status);
    else printStatus(status, label, out.styleOut, (text) => out.line(text));
    return status.status === 'unhealthy' ? 1 : 0;
  },
});

function printStatus(status: AuthStatus, label: string, s: Style, line: (text: string) => void): void {
  const m = status.metadata;
  const paint = status.status === 'healthy' ? s.green : status.status === 'warning' ? s.yellow : s.red;
  const count = (n: number | null) => (n === null ? 'unknown' : String(n));
  line(`${s.bold('auth')}  ${paint(s.bold(status.status))}  ${cell(status.message, 300)}`);
  line(s.dim(`checked ${utc(new Date(status.checkedAt))} UTC in ${status.responseTimeMs} ms on ${label}`));
  line('');
  const rows: [string, string][] = [
    ['Users', `${count(m.totalUsers)} (${count(m.activeUsers)} active)`],
    ['Failed logins, 24 h', count(m.failedLogins24h)],
    ['Active sessions', count(m.activeSessions)],
    ['Token validation', m.tokenValidation === 'ok' ? s.green('ok') : s.red(m.tokenValidation)],
    ['Access token lifetime', m.avgTokenLifetime],
    ['JWT algorithm', m.jwtAlgorithm],
    ['Database', m.database],
    ['Security features', m.securityFeatures.join(', ') || 'none'],
    ['Configuration issues', m.configurationIssues.length === 0 ? 'none' : String(m.configurationIssues.length)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) {
    const [first, ...more] = wrap(value, 72);
    line(`${name.padEnd(width)}  ${first}`);
    for (const rest of more) line(`${' '.repeat(width)}  ${rest}`);
  }
  for (const issue of m.configurationIssues) line(`  ${s.yellow('-')} ${cell(issue, 400)}`);
  if (m.failedLoginsByHour.length === 0) return;
  const max = Math.max(...m.failedLoginsByHour.map((b) => b.count));
  line('');
  if (max === 0) {
    line('Failed logins per hour: none in the last 24 hours.');
    return;
  }
  line(s.bold(`Failed logins per hour (UTC, last 24 hours; most in one hour: ${max})`));
  for (const bucket of m.failedLoginsByHour) {
    const bar = bucket.count === 0 ? '' : '█'.repeat(Math.max(1, Math.round((bucket.count / max) * BAR_WIDTH)));
    line(`  ${s.dim(bucket.hour.slice(11, 16))} │${s.red(bar)}${bucket.count === 0 ? '' : ` ${bucket.count}`}`);
  }
}

/** Splits a comma list into lines of at most `width` characters (longer items get their own line). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const part of text.split(', ')) {
    const next = current === '' ? part : `${current}, ${part}`;
    if (next.length > width && current !== '') {
      lines.push(`${current},`);
      current = part;
    } else {
      current = next;
    }
  }
  lines.push(current);
  return lines;
}

function delay(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms).unref());
}
