import type { LoggerConfig, LogLevel } from '../config/config-schema.js';
import { enabled, formatLine } from './log-levels.js';

/** The service's own log (`loggers`); STD_OUTPUT only — process managers collect it. */
export interface ServiceLogger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

export function createServiceLogger(loggers: readonly LoggerConfig[], component: string): ServiceLogger {
  const outputs = loggers
    .filter((l) => l.name === 'STD_OUTPUT')
    .map((l) => ({ level: l.level, stream: l.settings.output === 'std_err' ? process.stderr : process.stdout }));
  const emit = (level: LogLevel, message: string) => {
    for (const out of outputs) if (enabled(out.level, level)) out.stream.write(formatLine(level, message, `${component}: `));
  };
  return {
    debug: (m) => emit('DEBUG', m),
    info: (m) => emit('INFO', m),
    warning: (m) => emit('WARNING', m),
    error: (m) => emit('ERROR', m),
  };
}
