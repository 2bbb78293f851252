import type { Context } from '@temporalio/activity';
import type { WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { JobLogger } from '../jobs/job-context.js';
import { OpCommand } from '../shared/job-model.js';
import { maskSecrets } from '../shared/redact.js';
import { opCommandQuery } from '../workflows/job-messages.js';

/** Why a run is being interrupted: an op command, or the worker going away (then the run is retried elsewhere). */
/** `overrun`: the run went past its cap (a short job's, or job.max_run_hours), and its workflow has already failed it. */
export type Interruption = OpCommand | 'shutdown' | 'overrun';

/** How long a run waits for its workflow to take a report before it goes on without knowing. */
const REPORT_WAIT_MS = 5_000;

/**
 * A report to the run's workflow, as an update (see job-messages). A run never waits on it longer
 * than REPORT_WAIT_MS: a busy workflow worker must not hold the job up; the report may still land.
 */
export async function report<R, A>(handle: WorkflowHandle, update: UpdateDefinition<R, [A]>, event: A): Promise<R> {
  const answered = await within(
    handle.executeUpdate(update, { args: [event] }).then((result) => ({ result })),
    REPORT_WAIT_MS,
  );
  if (answered === undefined) throw new Error(`no answer within ${REPORT_WAIT_MS} ms`);
  return answered.result;
}

/** `promise`'s value, or `undefined` once `ms` have passed without one (the promise may still settle later). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Cancellation does not say why; the workflow knows whether it was a stop or a cancel. */
export async function whyCancelled(activity: Context, handle: WorkflowHandle, begunAt: number): Promise<Interruption> {
  const details = activity.cancellationDetails;
  if (details?.workerShutdown) return 'shutdown';
  const { isLocal, startToCloseTimeoutMs } = activity.info;
  if (details?.timedOut && isLocal) return 'overrun';
  // Past max_run_hours the server times the run out, and its next heartbeat learns that it is gone
  // (or that it timed out): a heartbeat's own timeout comes sooner, and a stop is no timeout.
  if ((details?.timedOut || details?.notFound) && Date.now() - begunAt >= startToCloseTimeoutMs - 1000) return 'overrun';
  if (details?.notFound) return OpCommand.Stop;
  try {
    return (await within(handle.query(opCommandQuery), 3000)) ?? OpCommand.Stop;
  } catch {
    return OpCommand.Stop;
  }
}

export function maskingLogger<L extends JobLogger>(logger: L, secrets: readonly string[]): L {
  const mask = (write: (message: string) => void) => (message: string) => write(maskSecrets(String(message), secrets));
  return {
    ...logger,
    debug: mask((m) => logger.debug(m)),
    info: mask((m) => logger.info(m)),
    warning: mask((m) => logger.warning(m)),
    error: mask((m) => logger.error(m)),
    fatal: mask((m) => logger.fatal(m)),
  };
}

/**
 * The most of a check-in kept, in UTF-16 code units. A check-in travels in an update, the job's
 * state, its memo and its hook event at once: one of a few MB made every workflow task of the job
 * fail ("message too large"), so the job never moved again and a stop could not reach it.
 */
export const MAX_CHECKIN_CHARS = 128 * 1024;

export function boundedCheckIn(message: string, logger: { warning(text: string): void }): string {
  if (message.length <= MAX_CHECKIN_CHARS) return message;
  logger.warning(`check-in of ${message.length} characters cut to ${MAX_CHECKIN_CHARS}`);
  const marker = `…[${message.length - MAX_CHECKIN_CHARS} more characters cut]`;
  return message.slice(0, MAX_CHECKIN_CHARS - marker.length) + marker;
}
