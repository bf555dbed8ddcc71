import type { AccessTokenClaims } from './tokens.js';

/**
 * A bounded memo of access tokens whose signature and claims already verified, keyed by the exact
 * token string. Internal to `authenticate`: an HMAC verification is a pure function of the token
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

/** Creates a {@link VerifiedTokenCache} holding at most `max` tokens. */
export function createVerifiedTokenCache(max: number = VERIFIED_TOKEN_CACHE_SIZE): VerifiedTokenCache {
  const entries = new Map<string, AccessTokenClaims>();
  return {
    get(token, nowSeconds) {
      const claims = entries.get(token);
      if (claims === undefined) return undefined;
      // The same rule as jose: a token is expired from its `exp` second on.
      if (claims.exp <= nowSeconds) {
        entries.delete(token);
        return undefined;
      }
      return claims;
    },
    set(token, claims) {
      if (entries.size >= max) entries.delete(entries.keys().next().value as string);
      entries.set(token, claims);
    },
  };
}
