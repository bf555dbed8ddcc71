import { getMigrationStatus, migrate, openDatabase } from 'auth-kit';
import { defineCommand } from '../command.js';
import { databaseUrlOf, labelOf, openCommandDatabase, withDatabase } from '../database.js';

export default defineCommand({
  meta: {
    name: 'migrate',
    description: "Apply auth-kit's migrations, or show their status",
    details:
      "auth-kit keeps its own migration table (auth_kit_migration), apart from your app's migrations.\n" +
      'Applying is idempotent and safe from two processes at once. On the SQLite default the file\n' +
      'is created if missing; --status never creates or changes anything.',
    examples: [
      'auth-kit migrate',
      'auth-kit migrate --status',
      'auth-kit migrate --status --json',
      'DATABASE_URL=postgres://app:secret@localhost/app auth-kit migrate',
    ],
  },
  args: {
    status: { type: 'boolean', description: 'Only list applied and pending migrations; change nothing' },
    json: { type: 'boolean', description: 'Print { applied, pending } as JSON' },
  },
  async run({ args, io, out }) {
    const url = databaseUrlOf(args['database-url'], io.env);
    if (args.status) {
      const opened = await openCommandDatabase(url, io, { missingFile: 'peek' });
      const status = opened
        ? await withDatabase(opened, (o) => getMigrationStatus(o.db))
        : await pendingOnFreshDatabase();
      const label = opened?.label ?? labelOf(url);
      if (args.json) {
        out.json({ applied: status.applied, pending: status.pending });
        return;
      }
      out.line(`auth-kit migrations on ${label}${opened ? '' : ' (the file does not exist yet)'}:`);
      for (const name of status.applied) out.line(`  ${out.styleOut.green('applied')}  ${name}`);
      for (const name of status.pending) out.line(`  ${out.styleOut.yellow('pending')}  ${name}`);
      out.line(
        `${status.applied.length} applied, ${status.pending.length} pending.` +
          (status.pending.length ? ' Run `auth-kit migrate` to apply them.' : ''),
      );
      return;
    }
    const opened = (await openCommandDatabase(url, io, { missingFile: 'create' }))!;
    await withDatabase(opened, async ({ db, label, sqliteFile }) => {
      const { applied } = await migrate(db);
      const status = await getMigrationStatus(db);
      if (args.json) {
        out.json({ applied, pending: status.pending, total: status.applied.length });
        return;
      }
      if (sqliteFile && !sqliteFile.existed) out.line(`Created ${sqliteFile.path}.`);
      if (applied.length === 0) {
        out.line(`${label} is up to date: ${status.applied.length} auth-kit migration(s) applied, none pending.`);
        return;
      }
      out.line(`Applied ${applied.length} auth-kit migration(s) to ${label}:`);
      for (const name of applied) out.line(`  ${out.styleOut.green('applied')}  ${name}`);
    });
  },
});

/** The status of an empty database (every migration pending), without creating the missing file. */
async function pendingOnFreshDatabase() {
  const scratch = openDatabase('sqlite:///:memory:');
  try {
    return await getMigrationStatus(scratch);
  } finally {
    await scratch.destroy();
  }
}
