import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LoggerConfig, LogLevel } from '../config/config-schema.js';
import { enabled, formatLine } from './log-levels.js';
import { startLogSweeper, sweeperTargets } from './log-sweeper.js';

/** The service's own log (`loggers`): STD_OUTPUT for a process manager to collect, FILE under `settings.base_dir`. */
export interface ServiceLogger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

/** Harbor's FILE service logger names its file in `settings.filename`; Harbor refuses one without it, this service takes a default. */
export const SERVICE_LOG_FILE = 'job_service.log';

/** Sweepers this process runs for FILE service logs, by directory: every component's logger shares them. */
const sweeping = new Set<string>();

export function createServiceLogger(loggers: readonly LoggerConfig[], component: string): ServiceLogger {
  const outputs = loggers.map((l) => {
    if (l.name === 'STD_OUTPUT') {
      const stream = l.settings.output === 'std_err' ? process.stderr : process.stdout;
      return { level: l.level, write: (line: string) => stream.write(line) };
    }
    const dir = l.settings.base_dir as string;
    mkdirSync(dir, { recursive: true });
    const path = join(dir, typeof l.settings.filename === 'string' && l.settings.filename ? l.settings.filename : SERVICE_LOG_FILE);
    // A line at a time, appended as written (processes sharing the file interleave whole lines);
    // a log that cannot be written loses the line, never the service.
    return {
      level: l.level,
      write: (line: string) => {
        try {
          appendFileSync(path, line, { mode: 0o600 });
        } catch {
          // lost line
        }
      },
    };
  });
  const emit = (level: LogLevel, message: string) => {
    const line = formatLine(level, message, `${component}: `);
    for (const out of outputs) if (enabled(out.level, level)) out.write(line);
  };
  const logger: ServiceLogger = {
    debug: (m) => emit('DEBUG', m),
    info: (m) => emit('INFO', m),
    warning: (m) => emit('WARNING', m),
    error: (m) => emit('ERROR', m),
  };
  // The FILE loggers' sweepers, as Harbor runs them for its service loggers too.
  for (const sweeper of sweeperTargets(loggers)) {
    if (sweeping.has(sweeper.dir)) continue;
    sweeping.add(sweeper.dir);
    startLogSweeper(sweeper.dir, sweeper.days, (err) => logger.warning(`log sweep failed: ${(err as Error).message}`));
  }
  return logger;
}
