/**
 * `npm run lockfile` after changing dependencies.
 *
 * The registry this project installs from does not serve every platform's prebuilt binary
 * (e.g. @swc/core-darwin-arm64), so `npm install` leaves those optional packages out of
 * package-lock.json, and `npm ci` then calls the lock out of sync with package.json. This adds
 * the entries npm would have recorded: optional, gated by os/cpu/libc, so no platform other than
 * their own ever fetches them.
 */
import { readFileSync, writeFileSync } from 'node:fs';

type Entry = {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optionalDependencies?: Record<string, string>;
};
type Lock = { packages: Record<string, Entry> };

/** os/cpu/libc from a platform package's name, e.g. `core-linux-arm-gnueabihf`. */
export function platformOf(name: string): Pick<Entry, 'os' | 'cpu' | 'libc'> {
  const os = /-(darwin|linux|win32|freebsd|android|openbsd|sunos|aix)(?=-|$)/.exec(name)?.[1];
  const cpu = /-(arm64|x64|ia32|arm|ppc64|s390x|riscv64|loong64|mips64el)(?=-|$)/.exec(name)?.[1];
  if (!os || !cpu) throw new Error(`cannot tell the platform of ${name}; add its lock entry by hand`);
  const entry: Pick<Entry, 'os' | 'cpu' | 'libc'> = { os: [os], cpu: [cpu] };
  if (os === 'linux' && /-gnu/.test(name)) entry.libc = ['glibc'];
  if (os === 'linux' && /-musl/.test(name)) entry.libc = ['musl'];
  return entry;
}

/** The lock entries missing for optional dependencies; resolves names the way node does (nearest node_modules). */
export function missingOptionalEntries(lock: Lock): Record<string, Entry> {
  const missing: Record<string, Entry> = {};
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const [dep, spec] of Object.entries(entry.optionalDependencies ?? {})) {
      const nested = `${path ? `${path}/` : ''}node_modules/${dep}`;
      if (lock.packages[nested] || lock.packages[`node_modules/${dep}`] || missing[`node_modules/${dep}`]) continue;
      missing[`node_modules/${dep}`] = {
        version: spec.replace(/^[\^~=]/, ''),
        ...(entry.dev ? { dev: true } : {}),
        optional: true,
        ...platformOf(dep),
      };
    }
  }
  return missing;
}

function main() {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as Lock;
  const missing = missingOptionalEntries(lock);
  Object.assign(lock.packages, missing);
  const sorted: Record<string, Entry> = {};
  for (const key of Object.keys(lock.packages).sort()) sorted[key] = lock.packages[key]!;
  lock.packages = sorted;
  writeFileSync('package-lock.json', `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`added ${Object.keys(missing).length} platform entries: ${Object.keys(missing).join(', ') || 'none'}`);
}

if (process.argv[1]?.endsWith('complete-lockfile.ts')) main();
