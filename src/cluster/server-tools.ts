import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findGo, goInstall } from '../temporal/locate-cli.js';

/** The server the CLI bundles, so the cluster and the embedded default run the same engine. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const SERVER_PACKAGE = 'go.temporal.io/server/cmd/server';
const SQL_TOOL_PACKAGE = 'go.temporal.io/server/cmd/tools/sql';

export interface ServerTools {
  server: string;
  sqlTool: string;
  /** The PostgreSQL schemas of this server version (main and visibility), from the Go module cache. */
  schemaDir: string;
}

/**
 * Temporal's server and SQL tool, built from source with `go install` into a cache outside the
 * repository (this machine reaches the Go module proxy, not release binaries). The first build
 * takes minutes; later runs find the cached binaries.
 */
export async function locateServerTools(log: (line: string) => void, env = process.env): Promise<ServerTools> {
  const cacheRoot = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  const dir = join(cacheRoot, 'jobservice', 'temporal-server', TEMPORAL_SERVER_VERSION);
  const server = join(dir, 'server');
  const sqlTool = join(dir, 'sql');
  const go = findGo(env);
  if (!existsSync(server) || !existsSync(sqlTool)) {
    if (!go) throw new Error(`Temporal's server is not built in ${dir} and Go is not installed to build it`);
    log(`building Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool with go install into ${dir} (5–15 minutes the first time)…`);
    await goInstall(
      go,
      [`${SERVER_PACKAGE}@${TEMPORAL_SERVER_VERSION}`, `${SQL_TOOL_PACKAGE}@${TEMPORAL_SERVER_VERSION}`],
      dir,
      ['server', 'sql'],
      env,
      log,
    );
  }
  if (!go) throw new Error('Go is needed to find the server schemas in its module cache');
  const modCache = execFileSync(go, ['env', 'GOMODCACHE'], { encoding: 'utf8', env: { ...process.env, ...env } }).trim();
  const schemaDir = join(modCache, `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
  if (!existsSync(schemaDir)) {
    // go install downloaded the module; a cleaned module cache loses it, so fetch it again.
    execFileSync(go, ['mod', 'download', `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`], { stdio: 'ignore', cwd: dir });
  }
  if (!existsSync(schemaDir)) throw new Error(`no PostgreSQL schemas at ${schemaDir}`);
  return { server, sqlTool, schemaDir };
}
