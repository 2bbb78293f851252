import { DefaultLogger, Runtime } from '@temporalio/worker';

/** The SDK logs every bundle module at INFO; the service keeps its own log, so only warnings pass. */
export function installQuietRuntime(level: 'WARN' | 'ERROR' = 'WARN'): void {
  Runtime.install({ logger: new DefaultLogger(level) });
}
