/**
 * The client address of a request: the socket's peer, unless that peer is a proxy the app trusts,
 * in which case the right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
 * Pure functions (no I/O), shared by the HTTP layer, the events and the per-address limit.
 */
import { AuthKitError } from './errors.js';

/** A parsed IP address: 4 bytes (IPv4) or 16 bytes (IPv6). IPv4-mapped IPv6 is kept as IPv4. */
interface IpBytes {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
}

/** A parsed CIDR range. */
interface IpRange {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/**
 * A compiled list of trusted proxies, made by {@link parseTrustedProxies}. Opaque: pass it to
 * {@link resolveClientAddress}.
 */
export interface TrustedProxies {
  /** The entries as given (after expanding names such as `loopback`), for messages. */
  readonly entries: readonly string[];
  /** True when `address` (any textual form) is inside one of the ranges. */
  has(address: string): boolean;
}

/** Names accepted in a trusted-proxy list, each standing for a few ranges. */
export const TRUSTED_PROXY_NAMES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
});

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i];
    // Decimal only, no leading zeros (which some parsers read as octal).
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | null {
  if (text.length > 45 || !/^[0-9a-f:.]+$/i.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseIpv4(part);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(part)) return null;
        out.push(parseInt(part, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  // An embedded IPv4 may only end the address.
  if (halves.length === 2 && halves[0].includes('.')) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * Parses one address in any usual textual form: IPv4, IPv6 (with `::`, an embedded IPv4 or a
 * `%zone`), in brackets, with or without a port (`1.2.3.4:5678`, `[2001:db8::1]:443`).
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes IPv4. Null when it is not an address.
 */
function parseIp(input: string): IpBytes | null {
  if (typeof input !== 'string') return null;
  let text = input.trim();
  if (text.length === 0 || text.length > 64) return null;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) text = bracketed[1];
  else if (/^[\d.]+:\d{1,5}$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  const zone = text.indexOf('%');
  if (zone > 0) text = text.slice(0, zone);
  if (!text.includes(':')) {
    const v4 = parseIpv4(text);
    return v4 ? { version: 4, bytes: v4 } : null;
  }
  const v6 = parseIpv6(text);
  if (!v6) return null;
  if (isV4Mapped(v6)) return { version: 4, bytes: v6.slice(12) };
  return { version: 6, bytes: v6 };
}

function hextets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < 16; i += 2) out.push((bytes[i] << 8) | bytes[i + 1]);
  return out;
}

/** RFC 5952 text: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
function formatIpv6(bytes: Uint8Array): string {
  const groups = hextets(bytes);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function formatIp(ip: IpBytes): string {
  return ip.version === 4 ? Array.from(ip.bytes).join('.') : formatIpv6(ip.bytes);
}

/**
 * The canonical text of an address (IPv4 dotted; IPv4-mapped IPv6 as IPv4; IPv6 per RFC 5952,
 * lower case and compressed; no port, brackets or zone), or null when `address` is not one.
 *
 * @example
 * ```ts
 * normalizeIpAddress('::FFFF:192.0.2.7');      // "192.0.2.7"
 * normalizeIpAddress('[2001:DB8:0:0::1]:443'); // "2001:db8::1"
 * normalizeIpAddress('not an ip');             // null
 * ```
 */
export function normalizeIpAddress(address: string): string | null {
  return formsOf(address).normalized;
}

/**
 * The key the per-address limit counts by: an IPv4 address as is, an IPv6 address grouped by
 * its /64 (one subscriber usually owns a whole /64, so counting single IPv6 addresses would be
 * no limit at all). IPv4-mapped IPv6 counts as the IPv4 address. Null when `address` is not an
 * IP address.
 *
 * @example
 * ```ts
 * clientAddressKey('203.0.113.9');               // "203.0.113.9"
 * clientAddressKey('::ffff:203.0.113.9');        // "203.0.113.9"
 * clientAddressKey('2001:db8:1:2:aaaa::1');      // "2001:db8:1:2::/64"
 * ```
 */
export function clientAddressKey(address: string): string | null {
  return formsOf(address).key;
}

interface AddressForms {
  readonly normalized: string | null;
  readonly key: string | null;
}

/** Most addresses remembered by {@link formsOf}; the memo starts over when full. */
const MAX_REMEMBERED_ADDRESSES = 1024;
const MAX_REMEMBERED_LENGTH = 64;
const rememberedForms = new Map<string, AddressForms>();

/**
 * Both forms of an address, parsed once. Every login and event needs them, mostly for the same
 * few addresses, and parsing is a pure function of the text: the results are remembered.
 */
function formsOf(address: string): AddressForms {
  let forms = rememberedForms.get(address);
  if (forms === undefined) {
    forms = computeForms(address);
    // Only address-sized text is remembered: the memo stays small whatever callers pass.
    if (typeof address === 'string' && address.length <= MAX_REMEMBERED_LENGTH) {
      if (rememberedForms.size >= MAX_REMEMBERED_ADDRESSES) rememberedForms.clear();
      rememberedForms.set(address, forms);
    }
  }
  return forms;
}

function computeForms(address: string): AddressForms {
  const ip = parseIp(address);
  if (!ip) return { normalized: null, key: null };
  const normalized = formatIp(ip);
  if (ip.version === 4) return { normalized, key: normalized };
  const first = hextets(ip.bytes)
    .slice(0, 4)
    .map((g) => g.toString(16));
  return { normalized, key: `${first.join(':')}::/64` };
}

function parseRange(entry: string): IpRange | null {
  const slash = entry.indexOf('/');
  const addressText = slash === -1 ? entry : entry.slice(0, slash);
  // A range is written without port or brackets.
  if (/[[\]%]/.test(addressText)) return null;
  const rawIp = addressText.includes(':') ? parseIpv6(addressText) : parseIpv4(addressText);
  if (!rawIp) return null;
  const rawVersion: 4 | 6 = rawIp.length === 4 ? 4 : 6;
  const max = rawVersion === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return null;
    prefix = Number(p);
  }
  // `::ffff:10.0.0.0/104` is the IPv4 range 10.0.0.0/8.
  if (rawVersion === 6 && isV4Mapped(rawIp) && prefix >= 96) {
    return { version: 4, bytes: rawIp.slice(12), prefix: prefix - 96 };
  }
  return { version: rawVersion, bytes: rawIp, prefix };
}

function inRange(ip: IpBytes, range: IpRange): boolean {
  if (ip.version !== range.version) return false;
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((ip.bytes[i] & mask) !== (range.bytes[i] & mask)) return false;
  }
  return true;
}

/**
 * Compiles a trusted-proxy list: exact addresses (`10.0.0.5`, `::1`), CIDR ranges
 * (`10.0.0.0/8`, `2001:db8::/32`) and the names `loopback`, `linklocal`, `uniquelocal`.
 * An invalid entry throws `configuration_error` naming it — at start-up, not at the first request.
 *
 * @example
 * ```ts
 * const proxies = parseTrustedProxies(['loopback', '10.0.0.0/8']);
 * proxies.has('10.1.2.3'); // true
 * ```
 */
export function parseTrustedProxies(list: readonly string[] | string): TrustedProxies {
  const items = typeof list === 'string' ? list.split(',') : list;
  if (!Array.isArray(items)) {
    throw new AuthKitError('configuration_error', 'trustedProxies must be a list of addresses or CIDR ranges');
  }
  const entries: string[] = [];
  const ranges: IpRange[] = [];
  for (const item of items) {
    if (typeof item !== 'string') {
      throw new AuthKitError('configuration_error', 'trustedProxies entries must be strings');
    }
    const entry = item.trim().toLowerCase();
    if (entry === '') continue;
    for (const expanded of TRUSTED_PROXY_NAMES[entry] ?? [entry]) {
      const range = parseRange(expanded);
      if (!range) {
        throw new AuthKitError(
          'configuration_error',
          `AUTH_TRUSTED_PROXIES (trustedProxies) has an entry that is not an IP address, a CIDR range or one of ` +
            `${Object.keys(TRUSTED_PROXY_NAMES).join(', ')}: "${expanded.slice(0, 60)}"`,
        );
      }
      entries.push(expanded);
      ranges.push(range);
    }
  }
  return Object.freeze({
    entries: Object.freeze(entries),
    has(address: string): boolean {
      const ip = parseIp(address);
      return ip !== null && ranges.some((r) => inRange(ip, r));
    },
  });
}

/** The parts of a request {@link resolveClientAddress} reads (Node's `IncomingMessage` fits). */
export interface ClientAddressSource {
  /** The socket's peer address (`req.socket.remoteAddress`). */
  readonly remoteAddress: string | null | undefined;
  /** Request headers with lower-case names; only `x-forwarded-for` is read. */
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** Options of {@link resolveClientAddress}. */
export interface ClientAddressOptions {
  /** Proxies whose `X-Forwarded-For` is believed. Default: none (the socket address is the client). */
  readonly trustedProxies?: TrustedProxies | readonly string[];
}

/** At most this many `X-Forwarded-For` entries are examined (right to left). */
export const MAX_FORWARDED_HOPS = 32;

const compiled = new WeakMap<readonly string[], TrustedProxies>();

function toTrusted(option: ClientAddressOptions['trustedProxies']): TrustedProxies | null {
  if (option === undefined) return null;
  if (Array.isArray(option)) {
    const list = option as readonly string[];
    let proxies = compiled.get(list);
    if (!proxies) {
      proxies = parseTrustedProxies(list);
      compiled.set(list, proxies);
    }
    return proxies;
  }
  return option as TrustedProxies;
}

/**
 * The client address of a request, canonicalised (see {@link normalizeIpAddress}); null when the
 * socket has no address.
 *
 * The socket's peer is the client, unless the peer is a trusted proxy: then `X-Forwarded-For` is
 * read from the right, skipping trusted proxies, and the first untrusted entry is the client. Only
 * the entries added by trusted proxies are believed, so a client cannot choose its address by
 * sending the header itself: from an untrusted peer the header is ignored entirely, and behind a
 * trusted proxy a forged left part is never reached. An entry that is not an IP address stops the
 * walk at the proxy that passed it on.
 *
 * @example
 * ```ts
 * const address = resolveClientAddress(
 *   { remoteAddress: req.socket.remoteAddress, headers: req.headers },
 *   { trustedProxies: ['loopback'] },
 * );
 * // peer 127.0.0.1, X-Forwarded-For "6.6.6.6, 203.0.113.9" → "203.0.113.9"
 * // peer 198.51.100.2 (untrusted), same header              → "198.51.100.2"
 * ```
 */
export function resolveClientAddress(source: ClientAddressSource, options: ClientAddressOptions = {}): string | null {
  const peerText = source?.remoteAddress;
  if (typeof peerText !== 'string' || peerText === '') return null;
  const peerAddress = formsOf(peerText).normalized;
  if (peerAddress === null) return null;
  const trusted = toTrusted(options.trustedProxies);
  if (!trusted || !trusted.has(peerAddress)) return peerAddress;

  const raw = source.headers?.['x-forwarded-for'];
  const header = Array.isArray(raw) ? raw.join(',') : typeof raw === 'string' ? raw : '';
  const hops = header.split(',').slice(-MAX_FORWARDED_HOPS);
  let current = peerAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i].trim();
    if (hop === '') continue;
    const hopAddress = formsOf(hop).normalized;
    if (hopAddress === null) return current;
    current = hopAddress;
    if (!trusted.has(current)) return current;
  }
  // Every hop was a trusted proxy: the left-most one is the best we know.
  return current;
}
