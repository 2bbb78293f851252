import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * `job.hook_allowed_hosts`: where status hooks may go. Entries are host names (`core.harbor`),
 * wildcards (`*.example.com`) or CIDRs (`10.0.0.0/8`, `fd00::/8`); an empty list allows any host.
 * A name matches a CIDR when every address it resolves to is inside one.
 */
export interface HookAllowList {
  readonly open: boolean;
  /** Why the URL's host is not allowed, or undefined when it is. */
  refuse(url: string): Promise<string | undefined>;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

/** Why an entry of `job.hook_allowed_hosts` can never match a hook's host, or undefined when it can. */
export function allowListEntryProblem(raw: string): string | undefined {
  const entry = raw.trim().toLowerCase();
  const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
  if (cidr && isIP(cidr[1]!)) {
    const most = isIP(cidr[1]!) === 6 ? 128 : 32;
    return Number(cidr[2]) <= most ? undefined : `${raw}: a prefix of ${cidr[2]} is more than the ${most} bits of the address`;
  }
  if (isIP(entry)) return undefined;
  const name = entry.startsWith('*.') ? entry.slice(2) : entry;
  if (HOST_NAME.test(name)) return undefined;
  return `${raw}: not a host name, a *.suffix, an IP address or a CIDR (no scheme, port or path)`;
}

export function createHookAllowList(entries: readonly string[]): HookAllowList {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const blocks = new BlockList();
  let hasBlocks = false;
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1]!)) {
      blocks.addSubnet(cidr[1]!, Number(cidr[2]), isIP(cidr[1]!) === 6 ? 'ipv6' : 'ipv4');
      hasBlocks = true;
    } else if (isIP(entry)) {
      blocks.addAddress(entry, isIP(entry) === 6 ? 'ipv6' : 'ipv4');
      hasBlocks = true;
    } else if (entry.startsWith('*.')) {
      suffixes.push(entry.slice(1));
    } else {
      names.add(entry);
    }
  }
  const inBlocks = (address: string) => blocks.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  return {
    open: entries.length === 0,
    async refuse(url) {
      if (entries.length === 0) return undefined;
      const host = new URL(url).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
      if (names.has(host) || suffixes.some((s) => host.endsWith(s))) return undefined;
      if (isIP(host)) return inBlocks(host) ? undefined : `hook host ${host} is not in job.hook_allowed_hosts`;
      if (hasBlocks) {
        const addresses = await lookup(host, { all: true }).catch(() => []);
        if (addresses.length > 0 && addresses.every((a) => inBlocks(a.address))) return undefined;
      }
      return `hook host ${host} is not in job.hook_allowed_hosts`;
    },
  };
}
