/**
 * `npm run demo`: starts an example app (Express by default) on the SQLite default, migrates,
 * prints ready-to-paste curl commands for register → token → me, then runs that same flow itself
 * and prints what came back. It keeps serving while you try the commands when run in a terminal;
 * in CI, without a TTY on stdin, or with --once it stops after the flow.
 *
 *   npm run demo                           # Express on http://127.0.0.1:3000
 *   npm run demo -- --framework hono       # or fastify
 *   PORT=0 npm run demo -- --once          # a free port, exit after the self-check
 *
 * If JWT_SECRET_KEY is unset, the demo (and only the demo) makes a throw-away secret.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadSettings } from 'auth-kit';

const FRAMEWORKS = {
  express: () => import('./express/server.js'),
  hono: () => import('./hono/server.js'),
  fastify: () => import('./fastify/server.js'),
} as const;
type Framework = keyof typeof FRAMEWORKS;

const { values: args } = parseArgs({
  options: { framework: { type: 'string', default: process.env.DEMO_FRAMEWORK ?? 'express' }, once: { type: 'boolean', default: false } },
});
const framework = args.framework as Framework;
if (!Object.hasOwn(FRAMEWORKS, framework)) {
  console.error(`Unknown --framework "${framework}"; use one of: ${Object.keys(FRAMEWORKS).join(', ')}`);
  process.exit(2);
}

const env = { ...process.env };
if (!env.JWT_SECRET_KEY) {
  env.JWT_SECRET_KEY = randomBytes(32).toString('base64url');
  console.log('JWT_SECRET_KEY is not set: the demo generated a throw-away secret (tokens stop working when it exits).');
  console.log('Real apps must set JWT_SECRET_KEY themselves; auth-kit refuses to start without one.\n');
}
const settings = loadSettings(env);
const { start } = await FRAMEWORKS[framework]();
const server = await start({ port: Number(env.PORT ?? 3000), host: env.HOST ?? '127.0.0.1', settings });
const url = server.url;

console.log(`auth-kit demo: the ${framework} example app is listening on ${url}`);
console.log(`Database: ${settings.databaseUrl} (migrated)\n`);

const email = 'you@example.com';
const password = 'purple-monkey-dishwasher-42';
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
console.log('Try it (paste into a shell):\n');
console.log(`  # 1. register`);
console.log(`  curl -s -X POST ${url}/auth/register -H 'Content-Type: application/json' \\`);
console.log(`    -d ${shellQuote(JSON.stringify({ email, password, fullName: 'Demo User' }))}`);
console.log(`  # 2. get a token (OAuth 2.0 password grant, form-encoded)`);
console.log(`  TOKEN=$(curl -s -X POST ${url}/auth/token -d grant_type=password \\`);
console.log(`    --data-urlencode ${shellQuote(`username=${email}`)} --data-urlencode ${shellQuote(`password=${password}`)} \\`);
console.log(`    | node -pe 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`);
console.log(`  # 3. who am I? and the app's own protected route`);
console.log(`  curl -s ${url}/auth/me -H "Authorization: Bearer $TOKEN"`);
console.log(`  curl -s ${url}/notes -H "Authorization: Bearer $TOKEN"\n`);

/** The same flow, run by the demo against itself. Prints statuses and fields, never the token. */
async function selfCheck(): Promise<boolean> {
  console.log('Self-check (the same flow, run now by the demo):');
  const demoEmail = `demo-${randomBytes(4).toString('hex')}@example.com`;
  const demoPassword = randomBytes(18).toString('base64url');
  const register = await fetch(`${url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: demoEmail, password: demoPassword, fullName: 'Demo Self-check' }),
  });
  const user = (await register.json()) as { id: number; email: string };
  console.log(`  register → ${register.status} ${register.status === 201 ? `user #${user.id} ${user.email}` : JSON.stringify(user)}`);
  const tokenRes = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: demoEmail, password: demoPassword }),
  });
  const token = (await tokenRes.json()) as { access_token: string; token_type: string; expires_in: number };
  console.log(
    `  token    → ${tokenRes.status} ${tokenRes.status === 200 ? `${token.token_type} token, expires in ${token.expires_in} s, Cache-Control: ${tokenRes.headers.get('cache-control')}` : JSON.stringify(token)}`,
  );
  const authorization = { authorization: `Bearer ${token.access_token}` };
  const me = await fetch(`${url}/auth/me`, { headers: authorization });
  const meBody = (await me.json()) as { email: string; isActive: boolean };
  console.log(`  me       → ${me.status} ${me.status === 200 ? `${meBody.email} (active: ${meBody.isActive})` : JSON.stringify(meBody)}`);
  const notes = await fetch(`${url}/notes`, { headers: authorization });
  console.log(`  notes    → ${notes.status} ${JSON.stringify(await notes.json())}`);
  const anonymous = await fetch(`${url}/notes`);
  console.log(`  notes without a token → ${anonymous.status} (WWW-Authenticate: ${anonymous.headers.get('www-authenticate')})`);
  return register.status === 201 && tokenRes.status === 200 && me.status === 200 && notes.status === 200 && anonymous.status === 401;
}

let ok = false;
try {
  ok = await selfCheck();
} catch (err) {
  console.error('Self-check failed:', err);
}
console.log(ok ? 'Self-check passed.\n' : 'Self-check FAILED.\n');

const keepServing = ok && !args.once && !process.env.CI && process.stdin.isTTY === true;
if (keepServing) {
  console.log(`Serving on ${url}; press Ctrl+C to stop.`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} else {
  await server.close();
  process.exitCode = ok ? 0 : 1;
}
