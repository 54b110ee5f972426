import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction, type Socket } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';

/** A range let through although it is private (TOCSIN_ALLOWED_PRIVATE_CIDRS); the shape of config's `Cidr`. */
export interface AllowedCidr {
  readonly network: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

export class SsrfBlockedError extends Error {
  override readonly name = 'SsrfBlockedError';
  readonly code = 'ERR_TOCSIN_SSRF_BLOCKED';
}

/** ipaddr.js names of the only IPv4 and IPv6 ranges a probe or webhook may reach. */
const PUBLIC_RANGES: ReadonlySet<string> = new Set(['unicast']);

/** Readable names for ipaddr.js ranges, for the reason a target was refused. */
const RANGE_NAMES: Readonly<Record<string, string>> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address',
  private: 'a private address',
  reserved: 'a reserved address',
  uniqueLocal: 'a unique local address',
  rfc6145: 'an IPv4-translated address',
  teredo: 'a Teredo address',
  deprecatedSiteLocal: 'a site-local address',
  discard: 'a discard-only address',
  benchmarking: 'a benchmarking address',
};

/**
 * Which addresses outbound probes and webhooks may connect to. Everything that is not
 * public unicast is refused: private, loopback, link-local, CGNAT, `0/8`, multicast,
 * reserved and broadcast IPv4; loopback, unspecified, ULA, link-local, multicast,
 * Teredo and the other special IPv6 ranges. IPv6 forms that carry an IPv4 address
 * (IPv4-mapped, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address
 * they lead to; the deprecated IPv4-compatible `::/96` and the local-use NAT64 prefix
 * `64:ff9b:1::/48` (RFC 8215: only ever a private network's translator) are refused whole.
 * Ranges in `allowed` pass all the same.
 */
export class SsrfPolicy {
  private readonly allowed = new BlockList();
  private readonly hasAllowed: boolean;

  constructor(allowed: readonly AllowedCidr[] = []) {
    for (const cidr of allowed) this.allowed.addSubnet(cidr.network, cidr.prefix, cidr.family);
    this.hasAllowed = allowed.length > 0;
  }

  /** Why the address may not be reached, or undefined when it may; a name that is not an IP address is undefined too. */
  addressBlockReason(address: string): string | undefined {
    const bare = unbracket(address);
    const family = isIP(bare);
    if (family === 0) return undefined;
    const parsed = ipaddr.parse(family === 6 ? canonicalIpv6(bare) : bare);
    if (this.isAllowed(parsed)) return undefined;
    if (parsed.kind() === 'ipv4') return this.ipv4Reason(parsed as ipaddr.IPv4, bare);
    const v6 = parsed as ipaddr.IPv6;
    const embedded = embeddedIpv4(v6);
    if (embedded === 'refused') return `${bare} is ${describeV6Special(v6)}`;
    if (embedded) {
      if (this.isAllowed(embedded)) return undefined;
      const inner = this.ipv4Reason(embedded, embedded.toString());
      return inner === undefined ? undefined : `${bare} leads to ${embedded.toString()}, ${inner.replace(/^\S+ is /, '')}`;
    }
    const range = v6.range();
    return PUBLIC_RANGES.has(range) ? undefined : `${bare} is ${RANGE_NAMES[range] ?? `a special-purpose address (${range})`}`;
  }

  /**
   * For a URL's hostname as WHATWG URL parsing leaves it (odd IPv4 forms such as
   * `2130706433` or `0x7f.1` already normalised, IPv6 in brackets): an address literal
   * judged as above, or a `localhost` name. Other names are judged when they resolve.
   */
  hostBlockReason(hostname: string): string | undefined {
    const host = unbracket(hostname).toLowerCase().replace(/\.$/, '');
    if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a loopback name`;
    return this.addressBlockReason(host);
  }

  /** A socket `lookup` that fails when any answer for the name is refused. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      for (const a of addresses) {
        const reason = this.addressBlockReason(a.address);
        if (reason) return callback(new SsrfBlockedError(`${hostname} resolves to ${a.address}: ${reason}`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const [first] = addresses;
      if (!first) return callback(new Error(`no address for ${hostname}`), '', 0);
      callback(null, first.address, first.family);
    });
  };

  /**
   * An undici `connect` that checks every connection: an IP literal before any packet is
   * sent (Node skips `lookup` for literals), a name through the guarded lookup, and the
   * socket's remote address once connected, whatever resolved it.
   */
  connector(options: buildConnector.BuildOptions = {}): buildConnector.connector {
    const connect = buildConnector({ ...options, lookup: this.lookup } as buildConnector.BuildOptions);
    return (opts, callback) => {
      const reason = this.hostBlockReason(opts.hostname);
      if (reason) return callback(new SsrfBlockedError(`refused to connect: ${reason}`), null);
      connect(opts, (err, socket) => {
        if (err) return callback(err, null);
        const remote = (socket as Socket).remoteAddress;
        const late = remote === undefined ? 'the connected address is unknown' : this.addressBlockReason(remote);
        if (late) {
          socket!.destroy();
          return callback(new SsrfBlockedError(`refused the connection to ${opts.hostname}: ${late}`), null);
        }
        callback(null, socket!);
      });
    };
  }

  /** A connection pool whose every connection goes through `connector()`. */
  agent(options: Agent.Options = {}): Agent {
    return new Agent({ ...options, connect: this.connector() });
  }

  private isAllowed(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
    if (!this.hasAllowed) return false;
    // A zone id (fe80::1%eth0) is not part of the address BlockList compares.
    return this.allowed.check(address.toString().replace(/%.*$/, ''), address.kind());
  }

  private ipv4Reason(address: ipaddr.IPv4, shown: string): string | undefined {
    const range = address.range();
    return PUBLIC_RANGES.has(range) ? undefined : `${shown} is ${RANGE_NAMES[range] ?? `a special-purpose address (${range})`}`;
  }
}

/** The IPv4 address an IPv6 address leads to, 'refused' for forms refused whole, else undefined. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | 'refused' | undefined {
  const p = address.parts;
  if (address.isIPv4MappedAddress()) return address.toIPv4Address();
  if (address.match(LOCAL_NAT64)) return 'refused';
  if (address.match(WELL_KNOWN_NAT64)) return v4(p[6]!, p[7]!);
  if (address.range() === '6to4') return v4(p[1]!, p[2]!);
  // ::/96 less :: and ::1, which range() names.
  if (address.match(IPV4_COMPATIBLE) && !['unspecified', 'loopback'].includes(address.range())) return 'refused';
  return undefined;
}

function describeV6Special(address: ipaddr.IPv6): string {
  return address.match(LOCAL_NAT64) ? 'a local-use NAT64 address' : 'an IPv4-compatible address';
}

const WELL_KNOWN_NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const LOCAL_NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b:1::/48');
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

function v4(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * The all-hex spelling WHATWG URL gives an IPv6 address: ipaddr.js would read a dotted tail
 * such as `::127.0.0.1` (IPv4-compatible) as IPv4-mapped.
 */
function canonicalIpv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address; // a zone id (fe80::1%eth0), which URL does not take
  }
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

const strict = new SsrfPolicy();

/** Whether the strict policy (nothing let through) refuses this IP address. */
export function isPrivateAddress(address: string): boolean {
  return strict.addressBlockReason(address) !== undefined;
}

/** Whether the strict policy refuses this URL hostname (address literal or `localhost` name). */
export function isPrivateHost(hostname: string): boolean {
  return strict.hostBlockReason(hostname) !== undefined;
}

/** The strict policy's lookup. */
export const guardedLookup: LookupFunction = strict.lookup;
