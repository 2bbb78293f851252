import { appendFileSync, closeSync, futimesSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LoggerConfig, LogLevel } from '../config/config-schema.js';
import type { JobLogger } from '../jobs/job-context.js';
import { isJobId } from '../shared/job-id.js';
import { jobLogPath } from './job-log-path.js';
import { enabled, formatLine } from './log-levels.js';

export interface OpenJobLogger extends JobLogger {
  close(): Promise<void>;
}

export interface JobLoggerFactory {
  open(jobId: string): OpenJobLogger;
}

type Sink = { level: LogLevel; write(line: string): void; close(): Promise<void> };

/** A FILE logger's `settings.base_dir`, when it names one. */
export function baseDirOf(logger: LoggerConfig): string | undefined {
  const dir = logger.name === 'FILE' ? logger.settings.base_dir : undefined;
  return typeof dir === 'string' && dir.length > 0 ? dir : undefined;
}

/** The FILE backend's directory, if FILE is configured: where the API's log getter reads. */
export function fileLogDir(loggers: readonly LoggerConfig[]): string | undefined {
  return fileLogDirs(loggers)[0];
}

/** Every FILE job logger's base_dir, each once. */
export function fileLogDirs(loggers: readonly LoggerConfig[]): string[] {
  return [...new Set(loggers.flatMap((l) => baseDirOf(l) ?? []))];
}

/** Builds each job run's logger from `job_loggers`: FILE writes `<base_dir>/<jobId>.log`, STD_OUTPUT a prefixed stream. */
export function createJobLoggerFactory(loggers: readonly LoggerConfig[]): JobLoggerFactory {
  // Each FILE logger writes under its own base_dir (the API reads the first's).
  for (const config of loggers) if (config.name === 'FILE') mkdirSync(config.settings.base_dir as string, { recursive: true });
  return {
    open(jobId) {
      // Ids reach the file system only in the forms we issue.
      if (!isJobId(jobId)) throw new Error(`refusing to open a log for malformed job id ${JSON.stringify(jobId)}`);
      const sinks: Sink[] = loggers.map((config) => {
        if (config.name === 'FILE') return fileSink(config.level, jobLogPath(config.settings.base_dir as string, jobId) as string);
        const stream = config.settings.output === 'std_err' ? process.stderr : process.stdout;
        return { level: config.level, write: (line) => stream.write(`[job ${jobId}] ${line}`), close: async () => {} };
      });
      const emit = (level: LogLevel, message: string) => {
        const line = formatLine(level, message);
        for (const sink of sinks) if (enabled(sink.level, level)) sink.write(line);
      };
      return {
        debug: (m) => emit('DEBUG', m),
        info: (m) => emit('INFO', m),
        warning: (m) => emit('WARNING', m),
        error: (m) => emit('ERROR', m),
        fatal: (m) => emit('FATAL', m),
        close: async () => {
          await Promise.all(sinks.map((s) => s.close()));
        },
      };
    },
  };
}

/**
 * The logs open in this process, by path: a run may go quiet for longer than the sweeper's
 * `duration` (a long hold, a long GC) and its log must not be swept from under it. The sweeper here
 * skips them, and their times are refreshed every few minutes so a sweeper in another process
 * sharing the directory leaves them too.
 */
const openLogs = new Map<string, number>();
const TOUCH_OPEN_LOGS_MS = 5 * 60 * 1000;
let toucher: NodeJS.Timeout | undefined;

/** Whether a job's log file is being written by a run in this process. */
export function isLogOpen(path: string): boolean {
  return openLogs.has(resolve(path));
}

function trackOpen(path: string, fd: number | undefined): void {
  // Resolved: the sweeper names the directory as its own setting does (work_dir), maybe otherwise.
  if (fd === undefined) openLogs.delete(resolve(path));
  else openLogs.set(resolve(path), fd);
  if (openLogs.size > 0 && !toucher) {
    toucher = setInterval(() => {
      const now = new Date();
      for (const open of openLogs.values()) {
        try {
          futimesSync(open, now, now);
        } catch {
          // a file gone from under its run: nothing to keep
        }
      }
    }, TOUCH_OPEN_LOGS_MS);
    toucher.unref();
  } else if (openLogs.size === 0 && toucher) {
    clearInterval(toucher);
    toucher = undefined;
  }
}

function fileSink(level: LogLevel, path: string): Sink {
  let fd: number | undefined;
  let closed = false;
  // A log that cannot be written (its directory gone) must not fail the job or take the worker
  // down: the line is lost, the run goes on.
  const quietly = (write: () => void) => {
    try {
      write();
    } catch {
      // lost line
    }
  };
  // Opened as the logger is (a run starts), as Harbor opens the file: a job that logs nothing at
  // the logger's level still has a log, empty, rather than none (404).
  quietly(() => {
    fd = openSync(path, 'a', 0o600);
    trackOpen(path, fd);
  });
  return {
    level,
    // Each line reaches the file as it is written, synchronously: the lines just before a crash are
    // the ones that explain it, so none wait in memory. A job writes a handful of short lines to a
    // local file, so the writes block the loop for microseconds; a write stream per job cost its
    // worker about half a millisecond of CPU in stream machinery alone (bench, session 12).
    write(line) {
      if (closed) {
        // A line after the run's end (a late warning) still goes in, without holding a descriptor.
        quietly(() => appendFileSync(path, line, { mode: 0o600 }));
        return;
      }
      quietly(() => {
        if (fd === undefined) {
          fd = openSync(path, 'a', 0o600);
          trackOpen(path, fd);
        }
        writeAll(fd, line);
      });
    },
    close: async () => {
      closed = true;
      if (fd === undefined) return;
      const open = fd;
      fd = undefined;
      trackOpen(path, undefined);
      quietly(() => closeSync(open));
    },
  };
}

/** writeSync may write part of a buffer; a log line goes in whole. */
function writeAll(fd: number, line: string): void {
  const bytes = Buffer.from(line);
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
}
