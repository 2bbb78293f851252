import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isJobId } from '../shared/job-id.js';
import type { LoggerConfig } from '../config/config-schema.js';
import { baseDirOf, isLogOpen } from './job-loggers.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * What each FILE logger's sweeper sweeps, and how old a log may get: Harbor's
 * `sweeper.settings.work_dir`, or the logger's `base_dir` where that is not given. Harbor runs a
 * sweeper for every logger that has one; two naming one directory sweep it once, by the shorter duration.
 */
export function sweeperTargets(loggers: readonly LoggerConfig[]): { dir: string; days: number }[] {
  const byDir = new Map<string, { dir: string; days: number }>();
  for (const logger of loggers) {
    if (logger.name !== 'FILE' || !logger.sweeper) continue;
    const workDir = logger.sweeper.settings.work_dir;
    const dir = typeof workDir === 'string' && workDir.trim() !== '' ? workDir : baseDirOf(logger);
    if (!dir) continue;
    const seen = byDir.get(resolve(dir));
    if (!seen || logger.sweeper.duration < seen.days) byDir.set(resolve(dir), { dir, days: logger.sweeper.duration });
  }
  return [...byDir.values()];
}

/** Of these job ids, the ones whose job has not finished (a Temporal read); a sweep keeps their logs. */
export type UnfinishedJobs = (ids: readonly string[]) => Promise<ReadonlySet<string>>;

/**
 * Remove `*.log` files in `dir` last written more than `days` ago, and the saved files of jobs
 * (`files/<id>/`, a batch target's reports) untouched as long; returns the names removed. A job's
 * log and files are kept while the job has not finished, however long it has been quiet: a
 * fan-out's parent writes nothing while its sub jobs run for days. When `unfinished` cannot answer,
 * or there is none (the service's own logger), nothing of a job's goes: a job logger's sweep,
 * which reads Temporal, takes it.
 */
export async function sweepLogs(dir: string, days: number, now = Date.now(), unfinished?: UnfinishedJobs): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    // Each logger makes its directory as it starts: a directory that is not there is a sweeper's
    // `work_dir` naming none (a typo), which would leave the logs to fill the disk unswept. Harbor
    // reports it at every sweep too.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`the sweeper's work_dir ${dir} does not exist: no logs are swept there`);
    throw err;
  }
  const old: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.log')) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    // A run still writing its log keeps it, however long it has been quiet.
    if (info?.isFile() && now - info.mtimeMs > days * DAY_MS && !isLogOpen(join(dir, name))) old.push(name);
  }
  const oldFiles = unfinished ? await quietFileDirs(join(dir, 'files'), now - days * DAY_MS) : [];
  const jobIds = [...new Set([...old.map((name) => name.slice(0, -'.log'.length)).filter(isJobId), ...oldFiles])];
  const running = !unfinished ? new Set(jobIds) : jobIds.length > 0 ? await unfinished(jobIds) : new Set<string>();
  const removed: string[] = [];
  for (const name of old) {
    if (running.has(name.slice(0, -'.log'.length))) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  for (const id of oldFiles) {
    if (running.has(id)) continue;
    await rm(join(dir, 'files', id), { recursive: true, force: true });
    removed.push(`files/${id}`);
  }
  return removed;
}

/** The job ids under `filesDir` whose saved files were all last written before `before` (epoch ms). */
async function quietFileDirs(filesDir: string, before: number): Promise<string[]> {
  const ids = await readdir(filesDir).catch(() => [] as string[]);
  const quiet: string[] = [];
  for (const id of ids.filter(isJobId)) {
    const names = await readdir(join(filesDir, id)).catch(() => undefined);
    if (!names) continue;
    const times = await Promise.all(
      names.map((name) =>
        stat(join(filesDir, id, name)).then(
          (i) => i.mtimeMs,
          () => 0,
        ),
      ),
    );
    if (Math.max(0, ...times) < before) quiet.push(id);
  }
  return quiet;
}

/**
 * Sweep at start and then every `days` days, as Harbor's sweeper does, but at least daily: Node
 * runs a timer of 2^31 ms (24.8 days) or more after 1 ms, so `duration: 30` would sweep without
 * pause. One sweep at a time. Returns a stop function, which settles once a sweep going on has ended.
 */
export function startLogSweeper(
  dir: string,
  days: number,
  onError: (err: unknown) => void,
  unfinished?: UnfinishedJobs,
): () => Promise<void> {
  let sweeping: Promise<void> | undefined;
  const run = () => {
    sweeping ??= sweepLogs(dir, days, Date.now(), unfinished)
      .then(() => undefined, onError)
      .finally(() => (sweeping = undefined));
  };
  run();
  const timer = setInterval(run, sweepEveryMs(days));
  timer.unref();
  // A sweep going on asks Temporal which jobs still run: it ends before the connection closes.
  return async () => {
    clearInterval(timer);
    await sweeping;
  };
}

export function sweepEveryMs(days: number): number {
  return Math.min(DAY_MS, Math.max(60_000, days * DAY_MS));
}
