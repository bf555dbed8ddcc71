/**
 * auth-kit quick start: migrate, create a user, log in, verify the token — on the embedded
 * SQLite default (./app.db in the current folder) unless DATABASE_URL says otherwise.
 *
 *   npx tsx examples/quickstart.ts
 */
import { randomBytes } from 'node:crypto';
import { AuthKitError, createAuth, loadSettings, migrate, openDatabase } from 'auth-kit';

const step = (n: number, text: string) => console.log(`${n}. ${text}`);

// The quick start (and only the quick start) makes a throw-away secret when none is set.
const env = { ...process.env };
if (!env.JWT_SECRET_KEY) {
  env.JWT_SECRET_KEY = randomBytes(32).toString('base64url');
  console.log('JWT_SECRET_KEY is not set: using a throw-away secret for this run (tokens die with it).');
}
const settings = loadSettings(env);

const db = openDatabase(settings.databaseUrl);
try {
  const { applied } = await migrate(db);
  step(1, `migrated ${settings.databaseUrl}: ${applied.length ? applied.join(', ') : 'already up to date'}`);

  const auth = createAuth({ db, settings });
  const email = `quickstart-${randomBytes(4).toString('hex')}@example.com`;
  const password = randomBytes(15).toString('base64url');
  const user = await auth.register({ email, password, fullName: 'Quick Start' });
  step(2, `registered user #${user.id} ${user.email} (created ${user.createdAt.toISOString()})`);

  const token = await auth.login({ username: email, password });
  step(3, `logged in: a ${token.tokenType} token valid for ${token.expiresIn} s`);

  const me = await auth.authenticate(token.accessToken);
  const claims = await auth.tokens.verifyAccessToken(token.accessToken);
  step(4, `verified the token: it belongs to #${me.id} ${me.email} (alg ${auth.tokens.algorithm}, jti ${claims.jti.slice(0, 6)}…)`);

  try {
    await auth.login({ username: email, password: `${password}x` });
  } catch (err) {
    if (!(err instanceof AuthKitError)) throw err;
    step(5, `a wrong password is refused: ${err.code} ("${err.message}")`);
  }
  console.log(`Done. ${await auth.users.countUsers()} user(s) in the database.`);
} finally {
  await db.destroy();
}
