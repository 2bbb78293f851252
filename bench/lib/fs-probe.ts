import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, round } from './stats.js';

/**
 * What creating a job's log costs the kernel here: microseconds to create, write and close a small
 * file in a fresh directory under `parent` (median of `count`). The files stay with the run's job
 * logs (see benchLogDir): deleting them would slow the very creates it measures (below).
 *
 * On this machine's root file system (ext4 without a journal) a create scans past every inode
 * freed in the last one to five minutes (`recently_deleted` in ext4's inode allocator): about
 * 25 µs on a quiet file system, 150–900 µs of system CPU for minutes after a few thousand files
 * were removed (a previous bench run's directory, a test run's temporary files). Every job
 * creates its log file, so a bench run right after another would charge the API variants a
 * cleanup the raw variants never pay for.
 */
export function fileCreateMicros(parent: string, count = 200): number {
  const dir = join(parent, `fs-probe-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir, { recursive: true });
  const times: number[] = [];
  const line = Buffer.from('a probe line of about the length of a job log line\n');
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const fd = openSync(join(dir, `${i.toString(16).padStart(24, '0')}.log`), 'a', 0o600);
    writeSync(fd, line);
    closeSync(fd);
    times.push((performance.now() - t) * 1000);
  }
  return round(percentile(times, 0.5));
}

/**
 * Waits (at most `maxWaitS`) until a file create costs under `quietMicros`: the bench measures the
 * job service, not what the kernel still owes for files removed just before it. Returns the last
 * probe and how long it waited.
 */
export async function waitForQuietFs(
  parent: string,
  maxWaitS: number,
  log: (line: string) => void,
  quietMicros = 100,
): Promise<{ log_create_us: number; fs_quiet_wait_s: number }> {
  const started = Date.now();
  let micros = fileCreateMicros(parent);
  while (micros >= quietMicros && Date.now() - started < maxWaitS * 1000) {
    log(`file creates cost ${micros} µs here (files removed recently); waiting for the file system to settle…`);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    micros = fileCreateMicros(parent);
  }
  return { log_create_us: micros, fs_quiet_wait_s: round((Date.now() - started) / 1000, 1) };
}

/**
 * Where a bench run's job logs go: beside the runs before it, not in the run's temporary directory.
 * Removing thousands of log files at the end of a run would slow every file create of the next
 * run for up to five minutes (see fileCreateMicros), so they stay, and each run removes only the
 * logs of runs older than `keepHours`, once its measurements are done.
 */
export function benchLogDir(runName: string): string {
  return join(tmpdir(), 'jobservice-bench-logs', runName);
}

export function pruneBenchLogs(keepHours = 24): void {
  const root = join(tmpdir(), 'jobservice-bench-logs');
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  const cutoff = Date.now() - keepHours * 3600_000;
  for (const entry of entries) {
    const path = join(root, entry);
    try {
      if (statSync(path).mtimeMs < cutoff) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}
