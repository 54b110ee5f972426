import type { TocsinConfig } from '@tocsin/config';
import { SsrfPolicy } from '@tocsin/net-guard';
import { refuse, type Refusal } from './result';

export type UrlPolicyConfig = Pick<TocsinConfig, 'TOCSIN_ALLOW_PRIVATE_URLS'> & Partial<Pick<TocsinConfig, 'TOCSIN_ALLOWED_PRIVATE_CIDRS'>>;

const strict = new SsrfPolicy();
/** One policy per loaded config: its allowed ranges are fixed at boot. */
const policies = new WeakMap<UrlPolicyConfig, SsrfPolicy>();

function policyOf(config: UrlPolicyConfig): SsrfPolicy {
  const allowed = config.TOCSIN_ALLOWED_PRIVATE_CIDRS ?? [];
  if (allowed.length === 0) return strict;
  let policy = policies.get(config);
  if (!policy) policies.set(config, (policy = new SsrfPolicy(allowed)));
  return policy;
}

/**
 * Up-front refusal of non-public targets, judged as the prober and dispatcher judge every
 * connection (the same SsrfPolicy): an IP literal in any spelling WHATWG URL accepts
 * (decimal, octal, hex, short IPv4; IPv4-mapped, NAT64 and 6to4 IPv6) or a `localhost`
 * name. Other names are judged again on every connection, when they resolve.
 * `config` as a boolean is TOCSIN_ALLOW_PRIVATE_URLS with no allowed ranges.
 */
export function checkTargetUrl(url: string, config: boolean | UrlPolicyConfig, field = 'url'): Refusal | null {
  const settings = typeof config === 'boolean' ? { TOCSIN_ALLOW_PRIVATE_URLS: config } : config;
  if (settings.TOCSIN_ALLOW_PRIVATE_URLS) return null;
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return refuse(400, 'must be an absolute http(s) URL', field);
  }
  const reason = policyOf(settings).hostBlockReason(hostname);
  return reason === undefined
    ? null
    : refuse(400, `${reason}: private, loopback, link-local and other non-public addresses are not allowed (TOCSIN_ALLOW_PRIVATE_URLS)`, field);
}
