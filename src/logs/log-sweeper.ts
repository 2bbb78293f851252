import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoggerConfig } from '../config/config-schema.js';
import { fileLogDir, isLogOpen } from './job-loggers.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * What the FILE logger's sweeper sweeps, and how old a log may get: Harbor's
 * `sweeper.settings.work_dir`, or the logger's `base_dir` where that is not given.
 */
export function sweeperTarget(loggers: readonly LoggerConfig[]): { dir: string; days: number } | undefined {
  const file = loggers.find((l) => l.name === 'FILE');
  if (!file?.sweeper) return undefined;
  const workDir = file.sweeper.settings.work_dir;
  const dir = typeof workDir === 'string' && workDir.trim() !== '' ? workDir : fileLogDir(loggers);
  return dir ? { dir, days: file.sweeper.duration } : undefined;
}

/** Remove `*.log` files in `dir` last written more than `days` ago; returns the names removed. */
export async function sweepLogs(dir: string, days: number, now = Date.now()): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.log')) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    // A run still writing its log keeps it, however long it has been quiet.
    if (info?.isFile() && now - info.mtimeMs > days * DAY_MS && !isLogOpen(path)) {
      await rm(path, { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/**
 * Sweep at start and then every `days` days, as Harbor's sweeper does, but at least daily: Node
 * runs a timer of 2^31 ms (24.8 days) or more after 1 ms, so `duration: 30` would sweep without
 * pause. One sweep at a time. Returns a stop function.
 */
export function startLogSweeper(dir: string, days: number, onError: (err: unknown) => void): () => void {
  let sweeping = false;
  const run = () => {
    if (sweeping) return;
    sweeping = true;
    void sweepLogs(dir, days)
      .catch(onError)
      .finally(() => (sweeping = false));
  };
  run();
  const timer = setInterval(run, sweepEveryMs(days));
  timer.unref();
  return () => clearInterval(timer);
}

export function sweepEveryMs(days: number): number {
  return Math.min(DAY_MS, Math.max(60_000, days * DAY_MS));
}
