/**
 * Access tokens (RFC 9068, RFC 8725): the shape of what we issue (S12), secret sizes (S13), and
 * hand-made malicious tokens built here with node:crypto, each rejected as `invalid_token` with
 * the right `reason` (S14). No network: `jku`/`x5u` point at a local server that counts requests.
 */
import { createHmac, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_TOKEN_TYPE,
  AuthKitError,
  MAX_ACCESS_TOKEN_LENGTH,
  createTokenService,
  loadSettings,
  resolveSettings,
  type InvalidTokenReason,
  type JwtAlgorithm,
} from 'auth-kit';
import { isCanonicalBase64url } from '../src/tokens.js';
import { caught, expectAuthKitError, fakeClock, newSecret } from './support/helpers.js';

const b64u = (value: string | Buffer | Uint8Array) => Buffer.from(value).toString('base64url');
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const HMAC_HASH: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/** Builds a compact JWS by hand: any header, any payload, an HMAC with any key and hash. */
function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  key: string | Buffer,
  hash = 'sha256',
): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  return `${input}.${createHmac(hash, key).update(input).digest('base64url')}`;
}

const clock = fakeClock('2030-06-01T12:00:00.000Z');
const secret = newSecret(64); // long enough for HS512 too, so "same secret, other size" is possible
const tokens = createTokenService({ jwtSecretKey: secret }, { clock: clock.now });
const HEADER = { alg: 'HS256', typ: 'at+jwt' };

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = clock.seconds();
  const base: Record<string, unknown> = {
    iss: 'auth-kit',
    sub: '42',
    aud: 'auth-kit',
    iat: now,
    exp: now + 600,
    jti: randomBytes(16).toString('base64url'),
    client_id: 'auth-kit',
    ver: 0,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

async function expectRejected(token: string, reason: InvalidTokenReason): Promise<AuthKitError> {
  return expectAuthKitError(tokens.verifyAccessToken(token), 'invalid_token', reason);
}

describe('issued access tokens (S12)', () => {
  it('have header {alg, typ: at+jwt} and exactly the RFC 9068 claims', async () => {
    const res = await tokens.createAccessToken({ id: 42, tokenVersion: 3 });
    expect(Object.keys(res).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType']);
    expect(res.tokenType).toBe('bearer');
    expect(res.expiresIn).toBe(1800);
    expect(decodeProtectedHeader(res.accessToken)).toEqual({ alg: 'HS256', typ: ACCESS_TOKEN_TYPE });
    const payload = decodeJwt(res.accessToken);
    expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'sub', 'ver']);
    expect(payload).toMatchObject({ iss: 'auth-kit', sub: '42', aud: 'auth-kit', client_id: 'auth-kit', ver: 3 });
    expect(payload.iat).toBe(clock.seconds());
    expect(payload.exp! - payload.iat!).toBe(1800);
    const verified = await tokens.verifyAccessToken(res.accessToken);
    expect(verified).toEqual(payload);
  });

  it('follow the configured issuer, audience, client id and lifetime', async () => {
    const custom = createTokenService(
      { jwtSecretKey: secret, jwtIssuer: 'https://id.example', jwtAudience: 'api://orders', jwtClientId: 'shop', accessTokenExpireMinutes: 5 },
      { clock: clock.now },
    );
    const { accessToken, expiresIn } = await custom.createAccessToken({ id: 7 });
    expect(expiresIn).toBe(300);
    expect(decodeJwt(accessToken)).toMatchObject({ iss: 'https://id.example', aud: 'api://orders', client_id: 'shop', sub: '7', ver: 0 });
    expect((await custom.verifyAccessToken(accessToken)).sub).toBe('7');
    // Each service accepts only its own issuer/audience.
    await expectAuthKitError(tokens.verifyAccessToken(accessToken), 'invalid_token', 'claims');
  });

  it('jti carries at least 128 random bits and is unique across 1000 tokens', async () => {
    const jtis = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const { accessToken } = await tokens.createAccessToken({ id: 1 });
      const { jti } = decodeJwt(accessToken);
      expect(jti).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(jti!, 'base64url').length).toBeGreaterThanOrEqual(16);
      jtis.add(jti!);
    }
    expect(jtis.size).toBe(1000);
  });

  it('are refused for a subject without a positive integer id', async () => {
    for (const id of [0, -1, 1.5, Number.NaN, '1', null]) {
      await expectAuthKitError(tokens.createAccessToken({ id: id as number }), 'validation_failed');
    }
  });

  it('expire exactly at exp, judged by the injected clock', async () => {
    const c = fakeClock('2030-01-01T00:00:00.000Z');
    const svc = createTokenService({ jwtSecretKey: secret }, { clock: c.now });
    const { accessToken } = await svc.createAccessToken({ id: 5 });
    c.advance(1799_000);
    expect((await svc.verifyAccessToken(accessToken)).sub).toBe('5');
    c.advance(1000);
    await expectAuthKitError(svc.verifyAccessToken(accessToken), 'invalid_token', 'expired');
  });

  it.each(['HS384', 'HS512'] as JwtAlgorithm[])('%s is selectable, and pinned', async (alg) => {
    const svc = createTokenService({ jwtSecretKey: secret, jwtAlgorithm: alg }, { clock: clock.now });
    expect(svc.algorithm).toBe(alg);
    const { accessToken } = await svc.createAccessToken({ id: 9 });
    expect(decodeProtectedHeader(accessToken)).toEqual({ alg, typ: 'at+jwt' });
    expect(Buffer.from(accessToken.split('.')[2], 'base64url').length).toBe(alg === 'HS384' ? 48 : 64);
    expect((await svc.verifyAccessToken(accessToken)).sub).toBe('9');
    // The same secret under another HMAC size is refused both ways.
    await expectRejected(accessToken, 'algorithm');
    const { accessToken: hs256 } = await tokens.createAccessToken({ id: 9 });
    await expectAuthKitError(svc.verifyAccessToken(hs256), 'invalid_token', 'algorithm');
  });
});

describe('secrets (S13)', () => {
  const cases: [JwtAlgorithm, number][] = [
    ['HS256', 32],
    ['HS384', 48],
    ['HS512', 64],
  ];
  it.each(cases)('%s: a secret of %i bytes is the minimum; one byte less is refused with a how-to, never echoing it', async (alg, min) => {
    const short = `SeCrEt-${'z'.repeat(min - 9)}!`;
    expect(Buffer.byteLength(short)).toBe(min - 1);
    for (const build of [
      () => createTokenService({ jwtSecretKey: short, jwtAlgorithm: alg }),
      () => resolveSettings({ jwtSecretKey: short, jwtAlgorithm: alg }),
      () => loadSettings({ JWT_SECRET_KEY: short, JWT_ALGORITHM: alg }),
    ]) {
      const err = await expectAuthKitError(build, 'configuration_error');
      expect(err.message).toContain('JWT_SECRET_KEY');
      expect(err.message).toContain(String(min));
      expect(err.message).toMatch(/randomBytes\(32\)|npx auth-kit secret/);
      expect(err.message).not.toContain(short);
      expect(err.message).not.toContain('zzzz');
    }
    expect(createTokenService({ jwtSecretKey: `${short}!`, jwtAlgorithm: alg }).algorithm).toBe(alg);
  });

  it('counts bytes, not characters', async () => {
    await expectAuthKitError(() => createTokenService({ jwtSecretKey: '\u20AC'.repeat(10) }), 'configuration_error'); // 30 bytes
    expect(createTokenService({ jwtSecretKey: '\u20AC'.repeat(11) }).algorithm).toBe('HS256'); // 33 bytes, 11 characters
  });

  it('an empty or missing secret is refused', async () => {
    await expectAuthKitError(() => createTokenService({ jwtSecretKey: '' }), 'configuration_error');
    await expectAuthKitError(() => createTokenService({} as never), 'configuration_error');
    await expectAuthKitError(() => loadSettings({}), 'configuration_error');
  });
});

describe('hand-made malicious tokens (S14)', () => {
  it('the forging helper makes tokens that verify when nothing is wrong (control)', async () => {
    const claimsOut = await tokens.verifyAccessToken(forge(HEADER, claims(), secret));
    expect(claimsOut.sub).toBe('42');
  });

  const spellings = ['none', 'None', 'NONE', 'nOnE'];
  it.each(spellings)('alg %s: refused with or without a signature', async (alg) => {
    const input = `${b64u(JSON.stringify({ alg, typ: 'at+jwt' }))}.${b64u(JSON.stringify(claims()))}`;
    await expectRejected(`${input}.`, 'malformed');
    await expectRejected(input, 'malformed');
    await expectRejected(`${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`, 'algorithm');
    await expectRejected(`${input}.${b64u('x')}`, 'algorithm');
  });

  it('an empty signature is refused', async () => {
    const [h, p] = forge(HEADER, claims(), secret).split('.');
    await expectRejected(`${h}.${p}.`, 'malformed');
  });

  it('the same secret with HS384 / HS512 is refused when HS256 is configured', async () => {
    for (const alg of ['HS384', 'HS512']) {
      await expectRejected(forge({ alg, typ: 'at+jwt' }, claims(), secret, HMAC_HASH[alg]), 'algorithm');
    }
    // An HS256 header over an HS384/512 MAC, or a truncated MAC, is a bad signature.
    await expectRejected(forge(HEADER, claims(), secret, 'sha384'), 'signature');
    await expectRejected(forge(HEADER, claims(), secret, 'sha512'), 'signature');
    const good = forge(HEADER, claims(), secret);
    const [h, p, s] = good.split('.');
    await expectRejected(`${h}.${p}.${b64u(Buffer.from(s, 'base64url').subarray(0, 16))}`, 'signature');
  });

  it('other algorithms (RS256, ES256, PS256) and a wrong secret are refused', async () => {
    for (const alg of ['RS256', 'ES256', 'PS256', 'EdDSA', 'HS1', 'hs256']) {
      await expectRejected(forge({ alg, typ: 'at+jwt' }, claims(), secret), 'algorithm');
    }
    await expectRejected(forge(HEADER, claims(), newSecret(64)), 'signature');
    await expectRejected(forge(HEADER, claims(), secret.slice(0, 32)), 'signature');
  });

  it('one flipped bit in any character of header, payload, signature or separators is refused', async () => {
    const token = forge(HEADER, claims(), secret);
    const reasons = new Map<string, Set<string>>();
    let tried = 0;
    for (let i = 0; i < token.length; i++) {
      const part = i < token.indexOf('.') ? 'header' : i < token.lastIndexOf('.') ? 'payload' : 'signature';
      const where = token[i] === '.' ? 'separator' : part;
      for (let bit = 0; bit < 8; bit++) {
        const flipped = token.slice(0, i) + String.fromCharCode(token.charCodeAt(i) ^ (1 << bit)) + token.slice(i + 1);
        const err = await caught(tokens.verifyAccessToken(flipped));
        expect(err, `bit ${bit} of character ${i} (${where})`).toBeInstanceOf(AuthKitError);
        expect((err as AuthKitError).code).toBe('invalid_token');
        if (!reasons.has(where)) reasons.set(where, new Set());
        reasons.get(where)!.add((err as AuthKitError).reason!);
        tried++;
      }
    }
    expect(tried).toBe(token.length * 8);
    expect([...reasons.get('payload')!].sort()).toEqual(['malformed', 'signature']);
    expect([...reasons.get('signature')!].sort()).toEqual(['malformed', 'signature']);
    expect([...reasons.get('separator')!]).toEqual(['malformed']);
    for (const r of reasons.get('header')!) expect(['malformed', 'algorithm', 'signature']).toContain(r);
  });

  it('one flipped bit in any byte of the decoded header, payload or MAC is refused', async () => {
    const token = forge(HEADER, claims(), secret);
    const parts = token.split('.').map((p) => Buffer.from(p, 'base64url'));
    let tried = 0;
    for (let part = 0; part < 3; part++) {
      for (let byte = 0; byte < parts[part].length; byte++) {
        for (let bit = 0; bit < 8; bit++) {
          const copy = parts.map((p) => Buffer.from(p));
          copy[part][byte] ^= 1 << bit;
          const err = await caught(tokens.verifyAccessToken(copy.map(b64u).join('.')));
          expect((err as AuthKitError).code, `part ${part} byte ${byte} bit ${bit}`).toBe('invalid_token');
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(8 * 150);
  });

  it.each(['HS256', 'HS384', 'HS512'] as const)(
    '%s: a MAC spelled with nonzero spare bits, or with a dangling character, is refused as malformed',
    async (alg) => {
      const service = createTokenService({ jwtSecretKey: secret, jwtAlgorithm: alg }, { clock: clock.now });
      const good = forge({ alg, typ: 'at+jwt' }, claims(), secret, HMAC_HASH[alg]);
      expect((await service.verifyAccessToken(good)).sub).toBe('42');
      const [h, p, s] = good.split('.');
      // 32, 48 and 64 bytes: 43, 64 and 86 characters, with 2, 0 and 4 spare bits in the last one.
      const spare = (s.length * 6) % 8;
      expect(spare).toBe({ HS256: 2, HS384: 0, HS512: 4 }[alg]);
      const last = BASE64URL_ALPHABET.indexOf(s.at(-1)!);
      for (let low = 1; low < 1 << spare; low++) {
        const variant = `${h}.${p}.${s.slice(0, -1)}${BASE64URL_ALPHABET[last | low]}`;
        // The same bytes to a lenient decoder: only the spelling differs.
        expect(Buffer.from(variant.split('.')[2], 'base64url')).toEqual(Buffer.from(s, 'base64url'));
        const err = await caught(service.verifyAccessToken(variant));
        expect((err as AuthKitError).reason, `low bits ${low}`).toBe('malformed');
      }
      // Characters added until the length is 1 past a multiple of 4: a character no decoder can use.
      const pad = (4 - ((s.length - 1) % 4)) % 4 || 4;
      expect((s.length + pad) % 4).toBe(1);
      for (const extra of ['A', 'g', '_']) {
        const err = await caught(service.verifyAccessToken(`${good}${extra.repeat(pad)}`));
        expect((err as AuthKitError).reason, `${pad} × ${extra}`).toBe('malformed');
      }
    },
  );

  it('isCanonicalBase64url agrees with decoding and re-encoding: the empty string, every 1-character one, every 3-character one after Q, and random long ones', () => {
    const roundTrips = (text: string) => Buffer.from(text, 'base64url').toString('base64url') === text;
    let checked = 0;
    const check = (text: string) => {
      expect(isCanonicalBase64url(text), JSON.stringify(text)).toBe(roundTrips(text));
      checked++;
    };
    check('');
    for (const a of BASE64URL_ALPHABET) {
      check(a);
      for (const b of BASE64URL_ALPHABET) check(`Q${a}${b}`);
    }
    for (let i = 0; i < 2000; i++) {
      const bytes = randomBytes(1 + (i % 70));
      const text = b64u(bytes);
      check(text);
      check(`${text.slice(0, -1)}${BASE64URL_ALPHABET[randomBytes(1)[0]! % 64]}`);
      check(`${text}${BASE64URL_ALPHABET[i % 64]}`);
    }
    // Characters outside the alphabet never count as canonical at the end of a string.
    expect(isCanonicalBase64url('QQ=')).toBe(false);
    expect(isCanonicalBase64url('Q\u00e9')).toBe(false);
    expect(checked).toBeGreaterThan(4000);
  });

  it('missing, past or malformed exp is refused; a future nbf is refused', async () => {
    const now = clock.seconds();
    await expectRejected(forge(HEADER, claims({ exp: undefined }), secret), 'claims');
    await expectRejected(forge(HEADER, claims({ iat: now - 3600, exp: now - 1 }), secret), 'expired');
    await expectRejected(forge(HEADER, claims({ iat: now - 3600, exp: now }), secret), 'expired');
    await expectRejected(forge(HEADER, claims({ exp: String(now + 600) }), secret), 'claims');
    await expectRejected(forge(HEADER, claims({ nbf: now + 60 }), secret), 'not_yet_valid');
    expect((await tokens.verifyAccessToken(forge(HEADER, claims({ nbf: now }), secret))).sub).toBe('42');
    expect((await tokens.verifyAccessToken(forge(HEADER, claims({ exp: now + 1 }), secret))).sub).toBe('42');
  });

  it('wrong, missing, prefix and suffix variants of iss and aud are refused (exact match only)', async () => {
    for (const iss of [undefined, 'evil', 'auth-ki', 'auth-kit2', 'xauth-kit', ' auth-kit', 'auth-kit ', 'AUTH-KIT', '', ['auth-kit']]) {
      await expectRejected(forge(HEADER, claims({ iss: iss ?? undefined }), secret), 'claims');
    }
    for (const aud of [undefined, 'evil', 'auth-ki', 'auth-kit2', 'xauth-kit', 'auth-kit/', 'AUTH-KIT', '', ['evil', 'other'], [], ['auth-kit2']]) {
      await expectRejected(forge(HEADER, claims({ aud: aud ?? undefined }), secret), 'claims');
    }
    // RFC 7519 4.1.3: an audience array that contains our exact audience is addressed to us.
    expect((await tokens.verifyAccessToken(forge(HEADER, claims({ aud: ['other', 'auth-kit'] }), secret))).sub).toBe('42');
  });

  it('a missing or wrong typ is refused with reason "type"', async () => {
    for (const typ of [undefined, 'JWT', 'jwt', 'at+jwe', 'application/jwt', '']) {
      const header: Record<string, unknown> = { alg: 'HS256' };
      if (typ !== undefined) header.typ = typ;
      await expectRejected(forge(header, claims(), secret), 'type');
    }
  });

  it('sub, jti and ver must be well formed; client_id is not required', async () => {
    for (const sub of [undefined, '0', '-1', 'abc', '42.5', ' 42', '0042', 42, '12345678901234567']) {
      await expectRejected(forge(HEADER, claims({ sub: sub ?? undefined }), secret), 'claims');
    }
    for (const jti of [undefined, 'short', 42]) {
      await expectRejected(forge(HEADER, claims({ jti: jti ?? undefined }), secret), 'claims');
    }
    for (const ver of ['1', 1.5, 2 ** 53]) {
      await expectRejected(forge(HEADER, claims({ ver }), secret), 'claims');
    }
    expect((await tokens.verifyAccessToken(forge(HEADER, claims({ client_id: undefined }), secret))).sub).toBe('42');
  });

  it('a JWE, a JSON-serialised JWS, garbage and non-JSON segments are refused as malformed', async () => {
    const good = forge(HEADER, claims(), secret);
    const [h, p, s] = good.split('.');
    const jweHeader = b64u(JSON.stringify({ alg: 'dir', enc: 'A256GCM', typ: 'at+jwt' }));
    await expectRejected(`${jweHeader}..${b64u(randomBytes(12))}.${b64u(randomBytes(64))}.${b64u(randomBytes(16))}`, 'malformed');
    await expectRejected(`${h}.${p}.${s}.${s}.${s}`, 'malformed');
    await expectRejected(JSON.stringify({ protected: h, payload: p, signature: s }), 'malformed');
    await expectRejected(JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] }), 'malformed');
    await expectRejected(`Bearer ${good}`, 'malformed');
    await expectRejected(` ${good}`, 'malformed');
    await expectRejected(`${good}\n`, 'malformed');
    await expectRejected(`${h}=.${p}.${s}`, 'malformed');
    await expectRejected('a.b', 'malformed');
    await expectRejected('...', 'malformed');
    await expectRejected(forge({ alg: 'HS256', typ: 'at+jwt', crit: ['x-unknown'], 'x-unknown': 1 }, claims(), secret), 'malformed');
    // Correctly signed, but the payload is not a JSON object.
    await expectRejected(forge(HEADER, 'not json', secret), 'malformed');
    await expectRejected(forge(HEADER, '[1,2,3]', secret), 'malformed');
    // A header that is not JSON.
    const input = `${b64u('{"alg":"HS256",')}.${p}`;
    await expectRejected(`${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`, 'malformed');
  });

  it('a missing or non-string token is refused as missing', async () => {
    for (const token of ['', undefined, null, 42, { token: 'x' }]) {
      await expectRejected(token as string, 'missing');
    }
  });

  it(`a token over MAX_ACCESS_TOKEN_LENGTH (${MAX_ACCESS_TOKEN_LENGTH}) is refused unparsed; one of exactly that length is fine`, async () => {
    const base = claims();
    let exact: string | undefined;
    for (let pad = 2500; pad < 3200 && !exact; pad++) {
      const token = forge(HEADER, { ...base, pad: 'p'.repeat(pad) }, secret);
      if (token.length === MAX_ACCESS_TOKEN_LENGTH) exact = token;
    }
    expect(exact?.length).toBe(MAX_ACCESS_TOKEN_LENGTH);
    expect((await tokens.verifyAccessToken(exact!)).sub).toBe('42');
    const over = forge(HEADER, { ...base, pad: 'p'.repeat(3100) }, secret);
    expect(over.length).toBeGreaterThan(MAX_ACCESS_TOKEN_LENGTH);
    await expectRejected(over, 'too_large');
    await expectRejected('a'.repeat(1_000_000), 'too_large');
  });

  describe('kid, jku, x5u and jwk headers never choose a key and never cause a fetch', () => {
    let server: Server;
    let requests = 0;
    let origin: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        requests++;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [{ kty: 'oct', k: b64u('attacker-secret-attacker-secret-attacker') }] }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // Control: the server is reachable and counts.
      await (await fetch(`${origin}/control`)).text();
      expect(requests).toBe(1);
      requests = 0;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('with our signature they verify (the headers are ignored), with an attacker key they fail', async () => {
      const attacker = Buffer.from('attacker-secret-attacker-secret-attacker');
      const extras: Record<string, unknown>[] = [
        { kid: 'attacker-key' },
        { kid: '../../../../dev/null' },
        { kid: "' union select 'x" },
        { jku: `${origin}/jwks.json` },
        { x5u: `${origin}/cert.pem` },
        { jwk: { kty: 'oct', k: b64u(attacker) } },
        { jku: `${origin}/jwks.json`, kid: 'k1', x5u: `${origin}/x`, jwk: { kty: 'oct', k: b64u(attacker) } },
      ];
      for (const extra of extras) {
        const header = { ...HEADER, ...extra };
        expect((await tokens.verifyAccessToken(forge(header, claims(), secret))).sub).toBe('42');
        await expectRejected(forge(header, claims(), attacker), 'signature');
      }

      // An RS256 token signed by the attacker, whose public key rides in the `jwk` header.
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = publicKey.export({ format: 'jwk' });
      for (const header of [
        { alg: 'RS256', typ: 'at+jwt', jwk },
        { alg: 'RS256', typ: 'at+jwt', jku: `${origin}/jwks.json`, kid: 'rsa' },
        { alg: 'RS256', typ: 'at+jwt', x5u: `${origin}/cert.pem` },
      ]) {
        const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims()))}`;
        const sig = createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url');
        await expectRejected(`${input}.${sig}`, 'algorithm');
      }
      // Give any stray fetch a chance to arrive before counting.
      await new Promise((r) => setImmediate(r));
      expect(requests).toBe(0);
    });
  });
});

describe('every rejection', () => {
  it('is an AuthKitError whose message contains no token material', async () => {
    const token = forge(HEADER, claims({ exp: clock.seconds() - 10, iat: clock.seconds() - 100 }), secret);
    const err = await expectRejected(token, 'expired');
    for (const part of token.split('.')) expect(err.message).not.toContain(part);
    expect(err.message).not.toContain(secret);
  });
});

