import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type SeedUserInput, createUserService, migrate, nextAvailableEmails, seedUsers } from 'auth-kit';
import { CliError, UsageError, defineCommand } from '../command.js';
import { databaseUrlOf, openCommandDatabase, passwordOptionsFromEnv, withDatabase } from '../database.js';

/** Runs longer than this show progress. */
const PROGRESS_FROM = 100;
const MAX_COUNT = 100_000;

export default defineCommand({
  meta: {
    name: 'seed',
    description: 'Create test users (next free test<N>@example.com, or from a file)',
    details:
      'Without --email, each user gets the next free address: test@example.com first, then the\n' +
      'lowest unused number (test1@, test2@, ...), filling gaps. Without --password, each user gets\n' +
      'a strong random password, printed once (only its hash is stored). On the SQLite default the\n' +
      "database file is created and auth-kit's migrations applied if needed.",
    examples: [
      'auth-kit seed',
      'auth-kit seed --count 50 --prefix qa --domain test.local',
      'auth-kit seed --email ada@example.com --password "correct horse battery staple" --full-name "Ada Lovelace"',
      'auth-kit seed --file fixtures/users.json --skip-existing',
      "auth-kit seed --count 3 --json | jq -r '.created[] | \"\\(.email) \\(.password)\"'",
    ],
  },
  args: {
    email: { type: 'string', valueHint: 'email', description: 'Create this one user' },
    password: { type: 'string', valueHint: 'password', description: 'Password for the new user(s)', defaultText: 'a random one each' },
    'full-name': { type: 'string', valueHint: 'name', description: 'Full name for the new user(s)' },
    prefix: { type: 'string', valueHint: 'prefix', description: 'Local part of generated addresses', defaultText: 'test' },
    domain: { type: 'string', valueHint: 'domain', description: 'Domain of generated addresses', defaultText: 'example.com' },
    count: { type: 'string', valueHint: 'n', description: 'How many users with generated addresses', defaultText: '1' },
    file: { type: 'string', valueHint: 'users.json', description: 'Create the users of a JSON array of {email, password?, fullName?}' },
    'skip-existing': { type: 'boolean', description: 'Leave users whose email exists alone instead of failing' },
    json: { type: 'boolean', description: 'Print { created, skipped } as JSON (notes go to stderr)' },
  },
  async run({ args, io, out }) {
    if (args.file !== undefined) {
      const clash = (['email', 'password', 'full-name', 'prefix', 'domain', 'count'] as const).find((k) => args[k] !== undefined);
      if (clash) throw new UsageError(`--file cannot be combined with --${clash} (put the users' fields in the file)`);
    }
    if (args.email !== undefined) {
      const clash = (['prefix', 'domain', 'count'] as const).find((k) => args[k] !== undefined);
      if (clash) throw new UsageError(`--email creates one user with that address; it cannot be combined with --${clash}`);
    }
    const count = args.count === undefined ? 1 : Number(args.count);
    if (args.count !== undefined && (!/^\d+$/.test(args.count) || count < 1 || count > MAX_COUNT)) {
      throw new UsageError(`--count must be a whole number from 1 to ${MAX_COUNT}`);
    }
    const fromFile = args.file === undefined ? null : await readUsersFile(args.file, io.cwd);
    const note = (text: string) => (args.json ? out.note(text) : out.line(text));
    const { passwords, passwordPolicy } = passwordOptionsFromEnv(io.env);

    const opened = (await openCommandDatabase(databaseUrlOf(args['database-url'], io.env), io, { missingFile: 'create' }))!;
    const result = await withDatabase(opened, async ({ db, label, sqliteFile }) => {
      const { applied } = await migrate(db);
      if (sqliteFile && !sqliteFile.existed) {
        note(`Created ${sqliteFile.path} and applied ${applied.length} auth-kit migration(s): ${applied.join(', ')}.`);
      } else if (applied.length) {
        note(`Applied ${applied.length} auth-kit migration(s) to ${label}: ${applied.join(', ')}.`);
      }
      let inputs: SeedUserInput[];
      if (fromFile) {
        inputs = fromFile;
      } else if (args.email !== undefined) {
        inputs = [{ email: args.email, password: args.password, fullName: args['full-name'] }];
      } else {
        const users = createUserService(db, { passwords, passwordPolicy });
        const emails = await nextAvailableEmails(users, { prefix: args.prefix, domain: args.domain, count }).catch((err) => {
          throw err?.code === 'validation_failed' ? new UsageError(`--prefix/--domain: ${err.message}`) : err;
        });
        inputs = emails.map((email) => ({ email, password: args.password, fullName: args['full-name'] }));
      }
      const progress = inputs.length > PROGRESS_FROM ? out.progress('seed: created', inputs.length) : null;
      try {
        return await seedUsers(db, inputs, {
          passwords,
          passwordPolicy,
          skipExisting: args['skip-existing'],
          onProgress: (done) => progress?.update(done),
        });
      } catch (err) {
        const e = err as { code?: string; message: string };
        const where = args.file === undefined ? '' : `${args.file}: `;
        if (e.code === 'email_already_registered') {
          throw new CliError(`${where}${e.message}. Pass --skip-existing to leave existing users alone`, 1, { cause: err });
        }
        if (e.code === 'validation_failed') throw new CliError(`${where}${e.message}`, 1, { cause: err });
        throw err;
      } finally {
        progress?.end();
      }
    });

    if (args.json) {
      out.json({
        created: result.created.map(({ user, generatedPassword }) => ({ ...user, password: generatedPassword })),
        skipped: result.skipped,
      });
      return;
    }
    const s = out.styleOut;
    if (result.created.length === 0) {
      out.line(`No users created: ${result.skipped.length === 1 ? 'the user already exists' : `all ${result.skipped.length} users already exist`}.`);
    } else {
      out.line(s.green(`Created ${result.created.length} user${result.created.length === 1 ? '' : 's'}:`));
      out.table(
        ['ID', 'EMAIL', 'PASSWORD'],
        result.created.map(({ user, generatedPassword }) => [String(user.id), user.email, generatedPassword ?? '(as given)']),
      );
      if (result.created.some((c) => c.generatedPassword !== null)) {
        out.line(s.dim('Generated passwords are shown only this once; only their hashes are stored.'));
      }
    }
    if (result.skipped.length > 0 && result.created.length > 0) {
      const shown = result.skipped.slice(0, 5).join(', ');
      out.line(`Skipped ${result.skipped.length} existing: ${shown}${result.skipped.length > 5 ? ', ...' : ''}`);
    }
  },
});

/** Reads and checks the shape of a `--file`; entries are validated by `seedUsers`, which names them. */
async function readUsersFile(file: string, cwd: string): Promise<SeedUserInput[]> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CliError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    // Only where: the parser's message can quote the text around it, which may be a password.
    const at = /position (\d+)/.exec((err as Error).message);
    let where = '';
    if (at) {
      const before = text.slice(0, Number(at[1])).split('\n');
      where = ` (line ${before.length}, column ${before[before.length - 1].length + 1})`;
    }
    throw new CliError(`${file} is not valid JSON${where}`);
  }
  if (!Array.isArray(data)) {
    throw new CliError(`${file} must hold a JSON array of { "email": ..., "password"?: ..., "fullName"?: ... }`);
  }
  if (data.length === 0) throw new CliError(`${file} holds an empty array: there is nobody to create`);
  return data as SeedUserInput[];
}
