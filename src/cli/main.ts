/**
 * The `auth-kit` command: finds the subcommand (loading only that one), parses its options,
 * runs it, and turns any failure into one line and an exit code: 0 success, 1 failure, 2 usage.
 */
import { createRequire } from 'node:module';
import {
  type AnyCommand,
  CliError,
  type Io,
  UsageError,
  defineCommand,
  parseCommandArgs,
  reasonOf,
  renderHelp,
  secretsOfUrl,
  takeCommandWord,
} from './command.js';
import { Output } from './output.js';

const root = defineCommand({
  meta: {
    name: 'auth-kit',
    description: 'seed and manage auth-kit users and sessions, read events and status, apply migrations, make secrets',
    details:
      'Works on the database your app uses: --database-url, else DATABASE_URL, else ./app.db (SQLite).\n' +
      'Exit codes: 0 success, 1 failure, 2 usage error.',
    examples: [
      'auth-kit seed',
      'auth-kit seed --count 10 --json',
      'auth-kit users list --database-url postgres://app@localhost/app',
      'auth-kit migrate --status',
      'auth-kit events list --since 24h --type login_failed',
      'auth-kit prune',
      'JWT_SECRET_KEY=… auth-kit status',
      'auth-kit secret',
    ],
  },
  subCommands: {
    seed: { description: 'Create test users (next free test<N>@example.com, or from a file)', load: () => import('./commands/seed.js') },
    users: { description: 'List users, activate or deactivate one, set a password, see or end sessions', load: () => import('./commands/users.js') },
    events: { description: 'List auth events (logins, failures, logouts, …) or prune old ones', load: () => import('./commands/events.js') },
    prune: { description: 'Delete expired sessions and used or expired password-reset tokens', load: () => import('./commands/prune.js') },
    status: { description: 'Check auth end to end: counts, token self-test, configuration issues', load: () => import('./commands/status.js') },
    migrate: { description: "Apply auth-kit's migrations, or show their status", load: () => import('./commands/migrate.js') },
    secret: { description: 'Print a new random secret for JWT_SECRET_KEY', load: () => import('./commands/secret.js') },
  },
});

/** The package version, read through the package's own `exports` (works installed and in the repo). */
function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('auth-kit/package.json') as { version: string }).version;
}

function closest(word: string, candidates: readonly string[]): string | null {
  const distance = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
    }
    return d[a.length][b.length];
  };
  const best = candidates.map((c) => [c, distance(word, c)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 2 ? best[0] : null;
}

/** Runs the command line `argv` and returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const out = new Output(io);
  let cmd: AnyCommand = root;
  const words = ['auth-kit'];
  let rest = [...argv];
  const verbose = argv.includes('--verbose');
  try {
    while (cmd.subCommands) {
      const { word, rest: remaining } = takeCommandWord(rest);
      if (word === null) break;
      const names = Object.keys(cmd.subCommands);
      if (!Object.hasOwn(cmd.subCommands, word)) {
        const guess = closest(word, names);
        throw new UsageError(`unknown command "${word}"${guess ? ` (did you mean "${guess}"?)` : ''}; commands: ${names.join(', ')}`);
      }
      cmd = (await cmd.subCommands[word].load()).default;
      words.push(word);
      rest = remaining;
    }
    const parsed = parseCommandArgs(cmd, rest);
    if (parsed.values.version) {
      out.line(packageVersion());
      return 0;
    }
    if (parsed.values.help) {
      io.stdout.write(renderHelp(cmd, words.join(' '), out.styleOut));
      return 0;
    }
    if (!cmd.run) {
      io.stderr.write(renderHelp(cmd, words.join(' '), out.styleErr));
      throw new UsageError('missing command');
    }
    const expected = cmd.positionals ?? [];
    if (parsed.positionals.length !== expected.length) {
      // Never echo the arguments: a password typed in the wrong place must not be printed.
      const wanted = expected.length === 0 ? 'takes no arguments' : `takes ${expected.map((p) => `<${p.name}>`).join(' ')}`;
      throw new UsageError(`${wanted} (got ${parsed.positionals.length})`);
    }
    const code = await cmd.run({ args: parsed.values as never, positionals: parsed.positionals, io, out, name: words.join(' ') });
    return code ?? 0;
  } catch (err) {
    return reportFailure(err, words.join(' '), { verbose, out, io, argv });
  }
}

function isAuthKitError(err: unknown): err is Error & { code: string; cause?: unknown } {
  // The bin loads the library lazily; checking the name avoids loading it just to report a failure.
  return err instanceof Error && err.name === 'AuthKitError';
}

function reportFailure(
  err: unknown,
  name: string,
  ctx: { verbose: boolean; out: Output; io: Io; argv: readonly string[] },
): number {
  let exitCode = 1;
  let message: string;
  if (err instanceof UsageError) {
    exitCode = 2;
    message = `${err.message}. Run \`${name} --help\` for usage`;
  } else if (err instanceof CliError) {
    exitCode = err.exitCode;
    message = err.message;
  } else if (isAuthKitError(err)) {
    message = err.code === 'migration_failed' && err.cause ? `${err.message}: ${reasonOf(err.cause)}` : err.message;
  } else {
    message = `unexpected error: ${reasonOf(err)}. Run again with --verbose for the stack trace`;
  }
  // The database password must never reach the output, whatever a driver put in its message.
  const urlFlag = ctx.argv.findIndex((a) => a === '--database-url' || a.startsWith('--database-url='));
  const url =
    urlFlag === -1
      ? ctx.io.env.DATABASE_URL
      : ctx.argv[urlFlag].includes('=')
        ? ctx.argv[urlFlag].slice('--database-url='.length)
        : ctx.argv[urlFlag + 1];
  const scrub = (text: string) => {
    let clean = text;
    for (const secret of url ? secretsOfUrl(url) : []) clean = clean.split(secret).join('***');
    return clean;
  };
  const s = ctx.out.styleErr;
  const line = `${s.red(s.bold(`${name}:`))} ${message.replace(/\s*\n\s*/g, ' ').replace(/\.?$/, '.')}`;
  ctx.io.stderr.write(`${scrub(line)}\n`);
  if (ctx.verbose && err instanceof Error) {
    let current: unknown = err;
    for (let depth = 0; current instanceof Error && depth < 5; depth++) {
      ctx.io.stderr.write(`${scrub(depth === 0 ? String(current.stack) : `Caused by: ${current.stack}`)}\n`);
      current = current.cause;
    }
  }
  return exitCode;
}
