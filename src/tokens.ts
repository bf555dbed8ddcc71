import { webcrypto } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { systemClock, type Clock } from './clock.js';
import { type JwtAlgorithm, type Settings, type SettingsInput, resolveSettings } from './config.js';
import { AuthKitError, type InvalidTokenReason } from './errors.js';
import { randomBase64url } from './random.js';

/** The largest access token accepted, in characters; anything longer is refused unparsed (S14). */
export const MAX_ACCESS_TOKEN_LENGTH = 4096;

/** The `typ` header of every access token (RFC 9068 2.1). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

/** The claims of a verified auth-kit access token (RFC 9068 2.2). */
export interface AccessTokenClaims {
  readonly iss: string;
  /** The user id, as a decimal string. */
  readonly sub: string;
  readonly aud: string | string[];
  readonly exp: number;
  readonly iat: number;
  /** At least 128 random bits, base64url. */
  readonly jti: string;
  readonly client_id: string;
  /** The user's token version when issued; a password change or deactivation moves it on (S15). */
  readonly ver: number;
  /** The session (refresh-token family) the token was issued for; absent for tokens issued without one. */
  readonly sid?: string;
}

/** The token response of a successful login, camelCased (the HTTP layer writes the RFC 6749 names). */
export interface AccessTokenResponse {
  readonly accessToken: string;
  readonly tokenType: 'bearer';
  /** Lifetime in seconds. */
  readonly expiresIn: number;
}

/** Who a token is issued to. A {@link User} fits; `tokenVersion` defaults to 0. */
export interface TokenSubject {
  readonly id: number;
  readonly tokenVersion?: number;
  /** Written as the `sid` claim: the session (refresh-token family) this token belongs to. */
  readonly sessionId?: string;
}

/** Options of {@link createTokenService}. */
export interface TokenServiceOptions {
  /** The time source for `iat`/`exp` and for verification. Default: the system clock. */
  readonly clock?: Clock;
}

/** Issues and verifies access tokens. Create with {@link createTokenService}. */
export interface TokenService {
  /** The algorithm tokens are signed with and the only one accepted. */
  readonly algorithm: JwtAlgorithm;
  /** Access-token lifetime in seconds. */
  readonly expiresIn: number;
  /** Signs a new access token for `subject`. */
  createAccessToken(subject: TokenSubject): Promise<AccessTokenResponse>;
  /** Verifies a token; throws `invalid_token` with a `reason` unless every check of S14 passes. */
  verifyAccessToken(token: string): Promise<AccessTokenClaims>;
}

const HASH_OF: Record<JwtAlgorithm, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Each base64url character's 6-bit value, by char code; -1 outside the alphabet. */
const BASE64URL_VALUE = (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/**
 * Whether unpadded base64url `text` is the one spelling of the bytes it decodes to: a length a
 * decoder can use whole (not 1 more than a multiple of 4) and zero spare low bits in the last
 * character, which decoders ignore. For text already in the base64url alphabet (only the last
 * character is looked at), the same answer as re-encoding the decoded bytes, without allocating:
 * it runs on every bearer token, after the compact-JWS pattern. Internal (not re-exported).
 *
 * @example
 * ```ts
 * isCanonicalBase64url('QQ'); // true  (one byte, 0x41)
 * isCanonicalBase64url('QR'); // false (also decodes to 0x41)
 * ```
 */
export function isCanonicalBase64url(text: string): boolean {
  // Bits the characters carry beyond whole bytes: 0, 2 or 4 (6 means a dangling character).
  const spareBits = (text.length * 6) % 8;
  if (spareBits === 6) return false;
  if (spareBits === 0) return true;
  const code = text.charCodeAt(text.length - 1);
  const value = code < 128 ? BASE64URL_VALUE[code]! : -1;
  return value >= 0 && (value & ((1 << spareBits) - 1)) === 0;
}

function invalidToken(reason: InvalidTokenReason, message: string, cause?: unknown): AuthKitError {
  return new AuthKitError('invalid_token', message, { reason, cause });
}

function translateJoseError(err: unknown): AuthKitError {
  if (err instanceof joseErrors.JWTExpired) return invalidToken('expired', 'The access token expired', err);
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return invalidToken('not_yet_valid', 'The access token is not valid yet', err);
    if (err.claim === 'typ') return invalidToken('type', 'The token is not an access token', err);
    return invalidToken('claims', `The access token has a missing or wrong "${err.claim}" claim`, err);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return invalidToken('algorithm', 'The token algorithm is not accepted', err);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return invalidToken('signature', 'The token signature is invalid', err);
  if (err instanceof joseErrors.JOSEError) return invalidToken('malformed', 'The access token is malformed', err);
  throw err;
}

/**
 * Creates the access-token service: HMAC-signed JWTs per RFC 9068 (`typ: at+jwt`; claims `iss`,
 * `sub`, `aud`, `exp`, `iat`, `jti`, `client_id`). The key is imported once, here. Verification
 * pins the algorithm, requires exact `iss`/`aud`/`typ`, and never lets a header choose a key.
 *
 * @example
 * ```ts
 * const tokens = createTokenService(loadSettings());
 * const { accessToken } = await tokens.createAccessToken({ id: 42 });
 * const claims = await tokens.verifyAccessToken(accessToken); // claims.sub === '42'
 * ```
 */
export function createTokenService(settings: Settings | SettingsInput, options: TokenServiceOptions = {}): TokenService {
  const resolved = resolveSettings(settings);
  const clock = options.clock ?? systemClock;
  const algorithm = resolved.jwtAlgorithm;
  const expiresIn = resolved.accessTokenExpireMinutes * 60;
  // Import the secret once as a non-extractable CryptoKey (importing per call would double the cost).
  const key = webcrypto.subtle.importKey(
    'raw',
    Buffer.from(resolved.jwtSecretKey, 'utf8'),
    { name: 'HMAC', hash: HASH_OF[algorithm] },
    false,
    ['sign', 'verify'],
  );
  const algorithms = [algorithm];
  const requiredClaims = ['exp', 'iat', 'sub', 'jti'];

  return Object.freeze({
    algorithm,
    expiresIn,
    async createAccessToken(subject: TokenSubject): Promise<AccessTokenResponse> {
      if (!Number.isSafeInteger(subject?.id) || subject.id < 1) {
        throw new AuthKitError('validation_failed', 'A token subject needs a positive integer id');
      }
      if (subject.sessionId !== undefined && (typeof subject.sessionId !== 'string' || subject.sessionId === '')) {
        throw new AuthKitError('validation_failed', 'A token sessionId must be a non-empty string');
      }
      const now = Math.floor(clock().getTime() / 1000);
      const claims: Record<string, unknown> = { client_id: resolved.jwtClientId, ver: subject.tokenVersion ?? 0 };
      if (subject.sessionId !== undefined) claims.sid = subject.sessionId;
      const accessToken = await new SignJWT(claims)
        .setProtectedHeader({ alg: algorithm, typ: ACCESS_TOKEN_TYPE })
        .setIssuer(resolved.jwtIssuer)
        .setSubject(String(subject.id))
        .setAudience(resolved.jwtAudience)
        .setIssuedAt(now)
        .setExpirationTime(now + expiresIn)
        .setJti(randomBase64url(18))
        .sign(await key);
      return { accessToken, tokenType: 'bearer', expiresIn };
    },
    async verifyAccessToken(token: string): Promise<AccessTokenClaims> {
      if (typeof token !== 'string' || token.length === 0) throw invalidToken('missing', 'No access token was given');
      if (token.length > MAX_ACCESS_TOKEN_LENGTH) throw invalidToken('too_large', 'The access token is too large');
      // Only the compact JWS form with a non-empty signature: no JWE, no JSON serialisation, no `alg: none`.
      if (!COMPACT_JWS.test(token)) throw invalidToken('malformed', 'The access token is malformed');
      // The last base64url character of a MAC has spare bits the decoder ignores; accept only the
      // canonical spelling, so that no flipped bit verifies and one token has one string (S14).
      // Checked in place: decoding and re-encoding it allocated a Buffer per token, ~8% of a
      // verification's wall time in bench/core.bench.mjs.
      if (!isCanonicalBase64url(token.slice(token.lastIndexOf('.') + 1))) {
        throw invalidToken('malformed', 'The access token is malformed');
      }
      let payload;
      try {
        // A fresh object literal per call: `{ ...constantOptions, currentDate }` takes a slow V8 path
        // that cost ~10% of a whole verification in bench/core.bench.mjs.
        ({ payload } = await jwtVerify(token, await key, {
          algorithms,
          issuer: resolved.jwtIssuer,
          audience: resolved.jwtAudience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims,
          currentDate: clock(),
        }));
      } catch (err) {
        throw translateJoseError(err);
      }
      if (typeof payload.sub !== 'string' || !/^[1-9]\d{0,15}$/.test(payload.sub)) {
        throw invalidToken('claims', 'The access token has a missing or wrong "sub" claim');
      }
      if (typeof payload.jti !== 'string' || payload.jti.length < 22) {
        throw invalidToken('claims', 'The access token has a missing or wrong "jti" claim');
      }
      const ver = payload.ver ?? 0;
      if (!Number.isSafeInteger(ver)) throw invalidToken('claims', 'The access token has a wrong "ver" claim');
      if (payload.sid !== undefined && (typeof payload.sid !== 'string' || payload.sid === '')) {
        throw invalidToken('claims', 'The access token has a wrong "sid" claim');
      }
      return payload as unknown as AccessTokenClaims;
    },
  });
}
