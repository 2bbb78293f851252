import type { Info as ActivityInfo } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { OpCommand } from '../shared/job-model.js';
import { cancelSignal, stopSignal } from '../workflows/job-messages.js';

/** How many pages of 100 events back a retried run looks for its own scheduling before it gives up looking. */
const MAX_PAGES = 20;

/**
 * A stop or cancel given since this run was scheduled, read from the workflow's history. A run
 * comes back as a new attempt after its worker was lost; a stop sent meanwhile is in the history at
 * once, but the workflow may not have taken it yet (its task waits on the lost worker's sticky
 * queue), so the retried run would start the job's code again after the stop had answered 204.
 */
export async function interruptedBeforeRetry(
  client: Client,
  execution: { workflowId: string; runId: string },
  activityId: string,
): Promise<OpCommand | undefined> {
  return interruptedSince(client, execution, (event) => event.activityTaskScheduledEventAttributes?.activityId === activityId);
}

/**
 * A run that waited this long for a worker reads its history for a stop before its code starts, as
 * a retried one does: the worker that held its workflow may have died meanwhile. Shorter waits skip
 * the read (a stop reaches a live workflow, which cancels a run not yet started, within that).
 */
const WAITED_FOR_A_WORKER_MS = 1000;

/**
 * A stop or cancel given before this run's code starts that its workflow may not have acted on:
 * for a short job's run that waited for a job slot (interruptedWhileWaiting); for a run retried
 * after its worker was lost, or one that waited for a worker while the worker holding its workflow
 * died (its task waits on the lost worker's sticky queue, about 10 s), read from the history.
 */
export async function givenBeforeStart(
  client: Client,
  info: Pick<ActivityInfo, 'attempt' | 'activityId' | 'isLocal' | 'workflowExecution' | 'currentAttemptScheduledTimestampMs'>,
  scheduledAfterEvent: number | undefined,
  begunAt: number,
): Promise<{ given: OpCommand; why: string; again: string } | undefined> {
  const whileWaiting = await interruptedWhileWaiting(client, info, scheduledAfterEvent, begunAt);
  if (whileWaiting !== undefined)
    return { given: whileWaiting, why: `${whileWaiting} was given while the run waited for a job slot`, again: '' };
  const retried = info.attempt > 1;
  const waited = begunAt - info.currentAttemptScheduledTimestampMs >= WAITED_FOR_A_WORKER_MS;
  if ((!retried && !waited) || info.isLocal || !info.workflowExecution) return undefined;
  // A first run whose read fails goes on, as before the read was made.
  const read = interruptedBeforeRetry(client, info.workflowExecution, info.activityId);
  const given = await (retried ? read : read.catch(() => undefined));
  if (given === undefined) return undefined;
  return retried
    ? { given, why: `${given} was given while the run's worker was lost`, again: 'again' }
    : { given, why: `${given} was given while the run waited for a worker`, again: '' };
}

/**
 * How long a short job's run must have waited for a job slot before a stop can be in the history:
 * the SDK heartbeats the workflow task holding a local activity at 80% of the task's 10 s timeout.
 * Runs that waited less skip the read.
 */
const TASK_HEARTBEAT_MS = 8000;

/**
 * A stop or cancel given to a short job's run while it waited for a job slot: a local activity
 * holds its workflow task open, and the server keeps a signal that comes meanwhile out of the
 * history until that task completes, which for a run still waiting is its heartbeat, every 8 s. A
 * stop given before the last heartbeat of the wait is in the history, after `scheduledAfterEvent`
 * (the history's length as the run was scheduled); one given since is not, and the job's code
 * runs (the job still ends Stopped). A failed read lets the run go on, as before.
 */
export async function interruptedWhileWaiting(
  client: Client,
  info: Pick<ActivityInfo, 'isLocal' | 'workflowExecution' | 'currentAttemptScheduledTimestampMs'>,
  scheduledAfterEvent: number | undefined,
  begunAt: number,
): Promise<OpCommand | undefined> {
  const execution = info.workflowExecution;
  if (!info.isLocal || scheduledAfterEvent === undefined || !execution) return undefined;
  if (begunAt - info.currentAttemptScheduledTimestampMs < TASK_HEARTBEAT_MS) return undefined;
  return interruptedSince(client, execution, (event) => Number(event.eventId ?? 0) <= scheduledAfterEvent).catch(() => undefined);
}

type HistoryEvent = NonNullable<
  NonNullable<Awaited<ReturnType<Client['workflowService']['getWorkflowExecutionHistoryReverse']>>['history']>['events']
>[number];

/** A stop or cancel in the history after the newest event that `isBoundary` holds for, read backwards. */
async function interruptedSince(
  client: Client,
  execution: { workflowId: string; runId: string },
  isBoundary: (event: HistoryEvent) => boolean,
): Promise<OpCommand | undefined> {
  let found: OpCommand | undefined;
  let nextPageToken: Uint8Array | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution,
      maximumPageSize: 100,
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    for (const event of answer.history?.events ?? []) {
      // Newest first: the run's own scheduling ends the search; what came before it is not for this run.
      if (isBoundary(event)) return found;
      const signal = event.workflowExecutionSignaledEventAttributes?.signalName;
      // The first stop or cancel given wins, as in the workflow (`ask`); reading backwards, the last one seen.
      if (signal === stopSignal.name) found = OpCommand.Stop;
      else if (signal === cancelSignal.name || event.workflowExecutionCancelRequestedEventAttributes) found = OpCommand.Cancel;
    }
    nextPageToken = answer.nextPageToken?.length ? answer.nextPageToken : undefined;
    if (!nextPageToken) break;
  }
  return found;
}
