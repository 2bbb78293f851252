import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';

/** Expected by design: the housekeeping worker runs activities only. */
const EXPECTED_WARNINGS = ['No workflows registered, not polling for workflow tasks'];

/** The level the SDK's own log gets: ERROR when the service's log (`loggers`) shows nothing below it, else WARN. */
export function sdkLogLevel(loggers: readonly { level: string }[]): 'WARN' | 'ERROR' {
  return loggers.every((l) => l.level === 'ERROR' || l.level === 'FATAL') ? 'ERROR' : 'WARN';
}

/** The SDK logs every bundle module at INFO; the service keeps its own log, so only warnings pass. */
export function installQuietRuntime(level: 'WARN' | 'ERROR' = 'WARN'): void {
  const stderr = new DefaultLogger(level);
  Runtime.install({
    logger: new DefaultLogger(level, (entry: LogEntry) => {
      if (EXPECTED_WARNINGS.includes(entry.message)) return;
      stderr.log(entry.level, entry.message, entry.meta);
    }),
  });
}
