import type { AccessTokenClaims } from './tokens.js';

/**
 * A bounded memo of access tokens whose signature and claims already verified; a hit needs the
 * exact token string. Internal to `authenticate`: an HMAC verification is a pure function of the token
 * and the key, so repeating it for a token seen seconds ago proves nothing new. Expiry is checked
 * again on every hit against the current clock, and everything that can change — the user, its
 * active flag, its token version — is still read from the database on every call (DESIGN rule 5).
 */
export interface VerifiedTokenCache {
  /** The claims of `token` if it verified before and has not expired at `nowSeconds`. */
  get(token: string, nowSeconds: number): AccessTokenClaims | undefined;
  /** Remembers verified claims; the oldest entry goes when the cache is full. */
  set(token: string, claims: AccessTokenClaims): void;
}

/** Default number of tokens remembered (a few MiB at most). */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/**
 * How many trailing characters of a token key the map. Hashing a whole token (about 240
 * characters) cost more than everything else `authenticate` does on a hit; the tail of the
 * signature is as unique among tokens this process verified, and a hit still needs the whole
 * token to be equal.
 */
const KEY_LENGTH = 32;

interface Entry {
  readonly token: string;
  readonly claims: AccessTokenClaims;
}

/** Creates a {@link VerifiedTokenCache} holding at most `max` tokens. */
export function createVerifiedTokenCache(max: number = VERIFIED_TOKEN_CACHE_SIZE): VerifiedTokenCache {
  const entries = new Map<string, Entry>();
  return {
    get(token, nowSeconds) {
      // Not a string: never remembered; the verifier refuses it with invalid_token.
      if (typeof token !== 'string') return undefined;
      const key = token.slice(-KEY_LENGTH);
      const entry = entries.get(key);
      // A forged token may end like a verified one (same signature, other payload): only the very
      // same token is a hit.
      if (entry === undefined || entry.token !== token) return undefined;
      // The same rule as jose: a token is expired from its `exp` second on.
      if (entry.claims.exp <= nowSeconds) {
        entries.delete(key);
        return undefined;
      }
      return entry.claims;
    },
    set(token, claims) {
      if (typeof token !== 'string') return;
      const key = token.slice(-KEY_LENGTH);
      if (!entries.has(key) && entries.size >= max) entries.delete(entries.keys().next().value as string);
      entries.set(key, { token, claims });
    },
  };
}
