import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { JOB_SEARCH_ATTRIBUTES } from '../shared/search-attributes.js';
import { devServerEnv } from './dev-server-gc.js';
import { endOrphanedServer, removeServerMarker, writeServerMarker } from './orphaned-server.js';
import { followLines, inOwnProcessGroup } from '../process/child-process.js';
import { pollUntil } from '../process/poll-until.js';
import { applyVisibilityIndexes, DEV_SERVER_VISIBILITY_INDEXES, type VisibilityIndexes } from './visibility-indexes.js';

export interface DevServerOptions {
  cli: string;
  ip: string;
  port: number;
  /** Web UI port; undefined runs headless. */
  uiPort?: number;
  /** SQLite file; undefined keeps everything in memory (tests). */
  dbFile?: string;
  namespace?: string;
  /** SQLite `synchronous` pragma: FULL survives an OS crash, NORMAL (still WAL) a process crash. @defaultValue FULL */
  synchronous?: 'FULL' | 'NORMAL';
  /** Go's GOGC for the server process ('off' or a percentage); unused if GOGC or GOMEMLIMIT is in the environment (devServerEnv). @defaultValue 'off' (DEV_SERVER_GO_GC) */
  goGc?: string;
  /** Go's GOMEMLIMIT for the server process (e.g. 2GiB); unused likewise. @defaultValue '2GiB' (DEV_SERVER_GO_MEMORY_LIMIT) */
  goMemoryLimit?: string;
  /** Which of Temporal's visibility indexes the SQLite file keeps (see visibility-indexes.ts). @defaultValue 'lean' */
  visibilityIndexes?: VisibilityIndexes;
  /** What jobservice itself has to say about the server (indexes dropped, or why not). */
  notice?: (line: string) => void;
  /** Extra SQLite pragmas as key=value (benchmark experiments). */
  extraPragmas?: string[];
  /** Extra dynamic config (benchmark experiments). */
  dynamicConfig?: Record<string, string>;
  /** Lines the server prints go here. */
  log?: (line: string) => void;
  /** Serve the server's own Prometheus metrics on this port (a bench diagnostic). */
  metricsPort?: number;
  /** Variables added to the server's environment (the bench's GODEBUG=gctrace=1). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
  /** Run the server in a process group of its own, out of reach of a terminal's Ctrl-C (npm start stops it itself, last). */
  ownProcessGroup?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Dynamic config of the embedded server. Schedule-driven starts are limited to 30/s per namespace
 * by default and excess fires are delayed silently; the embedded default raises that limit.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Record<string, string> = {
  'worker.schedulerNamespaceStartWorkflowRPS': '1000',
  // The dev server re-reads search attribute metadata from SQLite on every use; ours are
  // registered at server start (--search-attribute), so the cache can be trusted (+18% jobs/s).
  'system.forceSearchAttributesCacheRefreshOnRead': 'false',
  // A deleted execution is removed only once its close task is checkpointed, which happens every
  // 30 s by default; history limits would lag that long behind. One small write a second instead.
  'history.transferProcessorUpdateAckInterval': '"1s"',
  // A queue `stop` is a batch operation; the default of one per namespace would refuse a second meanwhile.
  'frontend.MaxConcurrentBatchOperationPerNamespace': '20',
};

/**
 * Crash-safe SQLite settings: WAL keeps the database consistent if the process dies, and
 * synchronous=FULL makes a committed write (a 202 from the API) survive an OS crash too.
 */
export function devServerPragmas(synchronous: 'FULL' | 'NORMAL' = 'FULL'): string[] {
  return ['journal_mode=WAL', `synchronous=${synchronous}`, 'busy_timeout=5000'];
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const address = `${options.ip}:${options.port}`;
  const inUse = () => `port ${address} is already in use: is another Temporal server (or npm start) running?`;
  const endedOrphan = options.dbFile ? await endOrphanedServer(resolve(options.dbFile), options.notice) : false;
  // An ended orphan's last threads may hold its port a moment after its pid reads as gone.
  if (endedOrphan) {
    await pollUntil(async () => !(await portOpen(options.ip, options.port)), { timeoutMs: 5_000, intervalMs: 100, timeoutMessage: inUse });
  }
  if (await portOpen(options.ip, options.port)) throw new Error(inUse());
  const args = [
    'server',
    'start-dev',
    '--ip',
    options.ip,
    '--port',
    String(options.port),
    '--namespace',
    options.namespace ?? 'default',
    '--log-level',
    'warn',
  ];
  for (const key of JOB_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  const dynamicConfig = { ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig };
  for (const [key, value] of Object.entries(dynamicConfig)) args.push('--dynamic-config-value', `${key}=${value}`);
  if (options.metricsPort !== undefined) args.push('--metrics-port', String(options.metricsPort));
  if (options.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  // An existing file is brought to the index set before the server opens it (a restore of dropped
  // indexes on a large file takes a while, and nothing waits on it then); a new one once the CLI
  // has created its schema, when its tables are still empty.
  let indexesDue: (() => Promise<void>) | undefined;
  if (options.dbFile) {
    const dbFile = resolve(options.dbFile);
    mkdirSync(dirname(dbFile), { recursive: true });
    const mode = options.visibilityIndexes ?? DEV_SERVER_VISIBILITY_INDEXES;
    const apply = async () => {
      const applied = await applyVisibilityIndexes(dbFile, mode);
      if ('skipped' in applied) options.notice?.(`visibility indexes left as they are (${mode} wanted): ${applied.skipped}`);
      else if (applied.changed > 0)
        options.notice?.(`visibility indexes: ${mode === 'lean' ? 'dropped' : 'restored'} ${applied.changed} (${mode}) in ${dbFile}`);
    };
    if (existsSync(dbFile)) await apply();
    else indexesDue = apply;
    args.push('--db-filename', dbFile);
    for (const pragma of [...devServerPragmas(options.synchronous), ...(options.extraPragmas ?? [])]) args.push('--sqlite-pragma', pragma);
  }

  // Ctrl-C in a terminal signals the whole foreground process group: a server in it would exit
  // while the worker still drains (and be restarted by its supervisor). In a group of its own it
  // stops when this process stops it, last. Only with a parent-death signal, though: a process
  // manager's SIGKILL of the group (or of this process) must still take the server with it. And in
  // this process's session, where a process manager finds it.
  const [command, argv] = (options.ownProcessGroup && inOwnProcessGroup(options.cli, args)) || [options.cli, args];
  const child = spawn(command, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...devServerEnv(options), ...options.env },
  });
  const log = options.log ?? (() => undefined);
  const recent: string[] = [];
  const onLine = (line: string) => {
    if (!line.trim()) return;
    recent.push(line);
    if (recent.length > 20) recent.shift();
    log(line);
  };
  followLines(child.stdout, onLine);
  followLines(child.stderr, onLine);
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  // The exit handler does not run when this process is SIGKILLed: the marker lets the next start end the orphan.
  const markedFile = options.dbFile && child.pid !== undefined ? resolve(options.dbFile) : undefined;
  if (markedFile) writeServerMarker(markedFile, child.pid!);

  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exitPromise = new Promise<void>((resolveExit) => {
    // 'close', not 'exit': by then its output is read to the end, last line included. Should
    // something else hold the pipes open (a wrapper script's leftover child), they are let go
    // 2 s after the exit, so 'close' still comes.
    child.once('exit', () => {
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, 2_000).unref();
    });
    // A CLI that cannot be run at all (not executable, gone): said as the start's failure, not thrown unhandled.
    child.once('error', (err) => {
      recent.push(err.message);
      if (child.pid !== undefined) return;
      exited = { code: null, signal: null };
      process.off('exit', killOnExit);
      resolveExit();
    });
    child.on('close', (code, signal) => {
      exited = { code, signal };
      process.off('exit', killOnExit);
      if (markedFile) removeServerMarker(markedFile, child.pid!);
      resolveExit();
    });
  });

  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exitPromise;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      throw new Error(`Temporal dev server exited (code ${exited.code}) while starting:\n${recent.join('\n')}`);
    }
    if (await temporalAnswers(address)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Temporal dev server did not become healthy at ${address}:\n${recent.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await indexesDue?.();
  const server: DevServer = { address, process: child, stop };
  if (options.uiPort !== undefined) server.uiUrl = `http://${options.ip}:${options.uiPort}`;
  return server;
}

/** Whether a Temporal frontend answers at `address` (its port open and a system-info call served). */
export async function temporalAnswers(address: string): Promise<boolean> {
  const [host, port] = splitAddress(address);
  if (!(await portOpen(host, port))) return false;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1000 });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

function splitAddress(address: string): [string, number] {
  const index = address.lastIndexOf(':');
  return [address.slice(0, index), Number(address.slice(index + 1))];
}

export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once('error', () => resolvePort(false));
  });
}
