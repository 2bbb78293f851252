import type { LookupAddress } from 'node:dns';
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
  /**
   * The same check for a delivery: a name admitted by what it resolved to (a CIDR entry) comes
   * with those addresses, and the POST must go to them, not to a later answer for the name.
   */
  admit(url: string): Promise<{ refused: string } | { pinned?: LookupAddress[] }>;
}

/** How the allow-list resolves a host name (every address); replaceable to test a changing answer. */
export type ResolveAll = (host: string) => Promise<LookupAddress[]>;

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

type AllowEntry =
  | { kind: 'block'; address: string; prefix?: number; family: 'ipv4' | 'ipv6' }
  | { kind: 'suffix'; suffix: string }
  | { kind: 'name'; name: string };

/** An entry of `job.hook_allowed_hosts` read, or why it can never match a hook's host. */
function readEntry(raw: string): AllowEntry | { problem: string } {
  const entry = raw.trim().toLowerCase();
  const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
  if (cidr && isIP(cidr[1]!)) {
    const family = isIP(cidr[1]!) === 6 ? 'ipv6' : 'ipv4';
    const most = family === 'ipv6' ? 128 : 32;
    if (Number(cidr[2]) > most) return { problem: `${raw}: a prefix of ${cidr[2]} is more than the ${most} bits of the address` };
    return { kind: 'block', address: cidr[1]!, prefix: Number(cidr[2]), family };
  }
  if (isIP(entry)) return { kind: 'block', address: entry, family: isIP(entry) === 6 ? 'ipv6' : 'ipv4' };
  const wildcard = entry.startsWith('*.');
  if (!HOST_NAME.test(wildcard ? entry.slice(2) : entry)) {
    return { problem: `${raw}: not a host name, a *.suffix, an IP address or a CIDR (no scheme, port or path)` };
  }
  return wildcard ? { kind: 'suffix', suffix: entry.slice(1) } : { kind: 'name', name: entry };
}

/** Why an entry of `job.hook_allowed_hosts` can never match a hook's host, or undefined when it can. */
export function allowListEntryProblem(raw: string): string | undefined {
  const read = readEntry(raw);
  return 'problem' in read ? read.problem : undefined;
}

export function createHookAllowList(
  entries: readonly string[],
  resolveAll: ResolveAll = (host) => lookup(host, { all: true }),
): HookAllowList {
  const names = new Set<string>();
  const suffixes: string[] = [];
  const blocks = new BlockList();
  let hasBlocks = false;
  for (const raw of entries) {
    // The configuration has refused entries with a problem.
    const entry = readEntry(raw);
    if ('problem' in entry) throw new Error(`job.hook_allowed_hosts: ${entry.problem}`);
    if (entry.kind === 'block') {
      if (entry.prefix === undefined) blocks.addAddress(entry.address, entry.family);
      else blocks.addSubnet(entry.address, entry.prefix, entry.family);
      hasBlocks = true;
    } else if (entry.kind === 'suffix') {
      suffixes.push(entry.suffix);
    } else {
      names.add(entry.name);
    }
  }
  const inBlocks = (address: string) => blocks.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  const admit = async (url: string): Promise<{ refused: string } | { pinned?: LookupAddress[] }> => {
    if (entries.length === 0) return {};
    const host = new URL(url).hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (names.has(host) || suffixes.some((s) => host.endsWith(s))) return {};
    if (isIP(host)) return inBlocks(host) ? {} : { refused: `hook host ${host} is not in job.hook_allowed_hosts` };
    if (hasBlocks) {
      const addresses = await resolveAll(host).catch(() => []);
      if (addresses.length > 0 && addresses.every((a) => inBlocks(a.address))) return { pinned: addresses };
    }
    return { refused: `hook host ${host} is not in job.hook_allowed_hosts` };
  };
  return {
    open: entries.length === 0,
    admit,
    async refuse(url) {
      const verdict = await admit(url);
      return 'refused' in verdict ? verdict.refused : undefined;
    },
  };
}
