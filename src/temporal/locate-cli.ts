import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { followLines } from '../process/child-process.js';
import { executable, findOnPath } from '../process/find-on-path.js';

/**
 * v1.5.1 is the newest CLI tag whose go.mod has no `replace` directive, so `go install pkg@version`
 * works; it bundles server 1.29.1 and UI 2.42.1.
 */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

export class CliNotFoundError extends Error {
  override name = 'CliNotFoundError';
}

export interface LocateCliOptions {
  env?: Record<string, string | undefined>;
  /** Called with progress lines while a build runs. */
  log?: (line: string) => void;
  /** Build with `go install` when nothing else is found. @defaultValue true */
  allowBuild?: boolean;
}

/** Where a cached build lives: outside the repository, keyed by version. */
export function cachedCliPath(env: Record<string, string | undefined> = process.env): string {
  const cacheRoot = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cacheRoot, 'jobservice', 'temporal-cli', TEMPORAL_CLI_VERSION, 'temporal');
}

/**
 * Find the Temporal CLI in this order: `$TEMPORAL_CLI`, `temporal` on PATH, a cached build, and
 * last a `go install` into the cache (this machine reaches the Go module proxy, not release binaries).
 */
export async function locateTemporalCli(options: LocateCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);

  const explicit = env.TEMPORAL_CLI;
  if (explicit) {
    if (!executable(explicit)) throw new CliNotFoundError(`TEMPORAL_CLI=${explicit} is not an executable file`);
    return explicit;
  }
  const onPath = findOnPath('temporal', env.PATH ?? '');
  if (onPath) return onPath;

  const cached = cachedCliPath(env);
  if (executable(cached)) return cached;

  if (options.allowBuild === false) throw new CliNotFoundError(notFoundMessage(cached));
  const go = findGo(env);
  if (!go) throw new CliNotFoundError(notFoundMessage(cached));

  log(`building Temporal CLI ${TEMPORAL_CLI_VERSION} with go install into ${dirname(cached)} (several minutes the first time)…`);
  try {
    await goInstall(go, [`${CLI_PACKAGE}@${TEMPORAL_CLI_VERSION}`], dirname(cached), ['temporal'], env, log);
  } catch (err) {
    throw new CliNotFoundError(`go install of the Temporal CLI failed: ${(err as Error).message}`);
  }
  const check = spawnSync(cached, ['--version'], { encoding: 'utf8' });
  if (check.status !== 0) throw new CliNotFoundError(`built Temporal CLI at ${cached} does not run`);
  return cached;
}

function notFoundMessage(cached: string): string {
  return (
    `Temporal CLI not found: set TEMPORAL_CLI to a temporal binary, put 'temporal' on PATH, ` +
    `or install Go >= 1.25 so it can be built with 'go install ${CLI_PACKAGE}@${TEMPORAL_CLI_VERSION}' into ${cached}`
  );
}

/** `go` on PATH, or where Go's own installer puts it. */
export function findGo(env: Record<string, string | undefined> = process.env): string | undefined {
  return findOnPath('go', env.PATH ?? '') ?? (executable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
}

/** `go install` of `packages` whose `binaries` land in `targetDir`, never leaving a half-built binary there. */
export async function goInstall(
  go: string,
  packages: string[],
  targetDir: string,
  binaries: string[],
  env: Record<string, string | undefined>,
  log: (l: string) => void,
): Promise<void> {
  mkdirSync(dirname(targetDir), { recursive: true });
  // Build into a scratch directory and rename, so an interrupted build never leaves a half binary.
  const scratch = mkdtempSync(join(dirname(targetDir), '.build-'));
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(go, ['install', ...packages], {
        env: { ...process.env, ...env, GOBIN: scratch, GOFLAGS: '-mod=mod' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const forward = (line: string) => {
        if (line.trim()) log(`  go: ${line.trim()}`);
      };
      followLines(child.stdout, forward);
      followLines(child.stderr, forward);
      child.on('error', reject);
      child.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`go install ${packages.join(' ')} exited ${code}`);
    mkdirSync(targetDir, { recursive: true });
    for (const binary of binaries) renameSync(join(scratch, binary), join(targetDir, binary));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
