/**
 * The command structure of the `auth-kit` bin, in the citty style: each command is
 * `defineCommand({ meta, args, run })`, and groups name their subcommands with a lazy loader, so
 * `auth-kit secret` never loads the database drivers and `--help` loads nothing at all.
 * Arguments are parsed with `node:util` `parseArgs` in strict mode.
 */
import { parseArgs } from 'node:util';
import type { Output, Style } from './output.js';

/** One option of a command. */
export interface ArgDef {
  readonly type: 'string' | 'boolean';
  readonly description: string;
  /** Shown in help: `--limit <n>`. */
  readonly valueHint?: string;
  readonly short?: string;
  /** Shown in help only; the command applies defaults itself. */
  readonly defaultText?: string;
  /** A string option that may be given several times; its value is the list (empty when absent). */
  readonly multiple?: boolean;
}

export type ArgDefs = Readonly<Record<string, ArgDef>>;

/** The parsed values of a command's options (plus the global ones). */
export type ArgValues<A extends ArgDefs> = {
  [K in keyof A]: A[K]['type'] extends 'boolean' ? boolean : A[K] extends { multiple: true } ? string[] : string | undefined;
} & GlobalValues;

/** A positional argument. */
export interface PositionalDef {
  readonly name: string;
  readonly description: string;
}

/** What the bin hands to a command's `run`. */
export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** The global options every command accepts. */
export interface GlobalValues {
  readonly 'database-url': string | undefined;
  readonly verbose: boolean;
  readonly help: boolean;
  readonly version: boolean;
}

export interface RunContext<A extends ArgDefs> {
  readonly args: ArgValues<A>;
  readonly positionals: readonly string[];
  readonly io: Io;
  readonly out: Output;
  /** The full command name, e.g. `auth-kit users list`, for messages. */
  readonly name: string;
}

export interface CommandMeta {
  /** The word typed, e.g. `list`. */
  readonly name: string;
  readonly description: string;
  /** Extra paragraphs for `--help`. */
  readonly details?: string;
  /** Example invocations for `--help`, without the leading `$ `. */
  readonly examples: readonly string[];
}

/** A lazily loaded subcommand: its one-line description is known without loading it. */
export interface SubCommandRef {
  readonly description: string;
  readonly load: () => Promise<{ default: AnyCommand }>;
}

export interface CommandDef<A extends ArgDefs = ArgDefs> {
  readonly meta: CommandMeta;
  readonly args?: A;
  readonly positionals?: readonly PositionalDef[];
  readonly subCommands?: Readonly<Record<string, SubCommandRef>>;
  /** Extra words for an unknown option that people try, e.g. `--password` on set-password. */
  readonly optionHints?: Readonly<Record<string, string>>;
  /** Returns the exit code (default 0). */
  readonly run?: (ctx: RunContext<A>) => Promise<number | void>;
}

export type AnyCommand = CommandDef<any>;

/**
 * Declares a command; only a typed identity, so `run` sees its own option types.
 *
 * @example
 * ```ts
 * export default defineCommand({
 *   meta: { name: 'secret', description: 'Print a new random secret', examples: ['auth-kit secret'] },
 *   args: { algorithm: { type: 'string', description: 'HS256, HS384 or HS512' } },
 *   async run({ args, out }) { out.line(makeSecret(args.algorithm)); },
 * });
 * ```
 */
export function defineCommand<const A extends ArgDefs>(def: CommandDef<A>): CommandDef<A> {
  return def;
}

/** Options every command accepts. */
export const GLOBAL_ARGS: ArgDefs = {
  'database-url': {
    type: 'string',
    valueHint: 'url',
    description: 'sqlite:///./app.db, sqlite:////abs/path.db or postgres://user:pass@host/db',
    defaultText: '$DATABASE_URL, then sqlite:///./app.db',
  },
  verbose: { type: 'boolean', description: 'On failure, also print the stack trace' },
  help: { type: 'boolean', short: 'h', description: 'Show this help' },
  version: { type: 'boolean', description: 'Print the auth-kit version' },
};

/** A problem with how the command was called: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure to report as one line (exit code 1 unless told otherwise). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Renders `--help` for a command. `path` is the words typed so far, e.g. `auth-kit users`. */
export function renderHelp(cmd: AnyCommand, path: string, s: Style): string {
  const lines: string[] = [];
  lines.push(`${s.bold(path)} — ${cmd.meta.description}`, '');
  const pos = (cmd.positionals ?? []).map((p) => ` <${p.name}>`).join('');
  const usage = cmd.subCommands ? `${path} <command> [options]` : `${path}${pos} [options]`;
  lines.push(`${s.bold('Usage:')} ${usage}`, '');
  if (cmd.meta.details) lines.push(cmd.meta.details, '');
  if (cmd.subCommands) {
    lines.push(s.bold('Commands:'));
    const names = Object.keys(cmd.subCommands);
    const width = Math.max(...names.map((n) => n.length));
    for (const name of names) lines.push(`  ${name.padEnd(width)}  ${cmd.subCommands[name].description}`);
    lines.push('', `Run \`${path} <command> --help\` for the options of each command.`, '');
  }
  if (cmd.positionals?.length) {
    lines.push(s.bold('Arguments:'));
    for (const p of cmd.positionals) lines.push(`  <${p.name}>  ${p.description}`);
    lines.push('');
  }
  const section = (title: string, defs: ArgDefs) => {
    const entries = Object.entries(defs);
    if (entries.length === 0) return;
    const flag = ([name, def]: [string, ArgDef]) =>
      `${def.short ? `-${def.short}, ` : ''}--${name}${def.type === 'string' ? ` <${def.valueHint ?? 'value'}>` : ''}`;
    const width = Math.max(...entries.map((e) => flag(e).length));
    lines.push(s.bold(title));
    for (const entry of entries) {
      const [, def] = entry;
      const dflt = def.defaultText ? ` (default: ${def.defaultText})` : '';
      lines.push(`  ${flag(entry).padEnd(width)}  ${def.description}${dflt}`);
    }
    lines.push('');
  };
  section('Options:', cmd.args ?? {});
  section('Global options:', GLOBAL_ARGS);
  if (cmd.meta.examples.length) {
    lines.push(s.bold('Examples:'));
    for (const example of cmd.meta.examples) lines.push(`  ${s.dim('$')} ${example}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** The parsed command line of one command. */
export interface ParsedArgs {
  readonly values: Record<string, string | string[] | boolean | undefined>;
  readonly positionals: string[];
}

/**
 * Parses `argv` strictly against the command's options and the global ones. Unknown options and
 * missing values are {@link UsageError}s. Messages name the option, never an argument's value
 * (which could be a password typed in the wrong place).
 */
export function parseCommandArgs(cmd: AnyCommand, argv: readonly string[]): ParsedArgs {
  const defs: ArgDefs = { ...GLOBAL_ARGS, ...((cmd.args ?? {}) as ArgDefs) };
  const options = Object.fromEntries(
    Object.entries(defs).map(([name, def]) => [
      name,
      { type: def.type, ...(def.short ? { short: def.short } : {}), ...(def.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = (err as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const option = /'([^']*)'/.exec(message)?.[1] ?? 'an option';
      const hint = cmd.optionHints?.[option.replace(/^-+/, '')];
      throw new UsageError(`unknown option ${option}${hint ? ` (${hint})` : ''}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const option = /'(--?[\w-]+)/.exec(message)?.[1] ?? 'an option';
      const def = defs[option.replace(/^-+/, '')];
      throw new UsageError(
        def?.type === 'boolean' ? `option ${option} does not take a value` : `option ${option} needs a value`,
      );
    }
    throw new UsageError('could not parse the arguments');
  }
  const values: Record<string, string | string[] | boolean | undefined> = {};
  for (const [name, def] of Object.entries(defs)) {
    const value = (parsed.values as Record<string, string | string[] | boolean | undefined>)[name];
    values[name] = def.type === 'boolean' ? value === true : def.multiple ? ((value as string[] | undefined) ?? []) : (value as string | undefined);
  }
  return { values, positionals: parsed.positionals };
}

/**
 * Takes the first word that is not an option (nor the value of a global string option such as
 * `--database-url x`) out of `argv`: the subcommand name of a group. Null when there is none.
 */
export function takeCommandWord(argv: readonly string[]): { word: string | null; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') break;
    if (token.startsWith('-')) {
      const name = token.replace(/^-+/, '');
      if (GLOBAL_ARGS[name]?.type === 'string') i++; // its value, not a command
      continue;
    }
    return { word: token, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { word: null, rest: [...argv] };
}

/** Why something failed, in a few words (AggregateErrors of dual-stack connects included). */
export function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const inner = (err as { errors?: unknown[] }).errors;
  if (!err.message && Array.isArray(inner) && inner.length) return inner.map(reasonOf).join('; ');
  const code = (err as { code?: unknown }).code;
  return err.message || (typeof code === 'string' ? code : err.name);
}

/** The password inside a database URL (user-info or `?password=`), so failure output can scrub it. */
export function secretsOfUrl(url: string): string[] {
  const found: string[] = [];
  try {
    const parsed = new URL(url);
    if (parsed.password) found.push(parsed.password, decodeURIComponent(parsed.password));
    const query = parsed.searchParams.get('password');
    if (query) found.push(query);
  } catch {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]*)@/i.exec(url);
    if (m?.[1]) found.push(m[1]);
  }
  return found.filter((secret) => secret.length > 0);
}
