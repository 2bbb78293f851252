import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { DEFAULT_HOOK_TIMINGS, hookEvent } from '../shared/hook-event.js';
import { JobKind, JobStatus, type JobStats } from '../shared/job-model.js';
import { JobKindKey, JobStatusKey } from '../shared/search-attributes.js';
import { nowSec } from '../shared/time.js';
import { HookDelivery, type HookDeliveryInput } from '../workflows/hook-delivery-workflow.js';
import { boundedRpc } from './bounded-rpc.js';
import { namespaceRetentionSeconds } from './namespace-retention.js';
import type { PeriodicGatewayDeps } from './periodic-gateway.js';
import { periodicStatusClause } from './periodic-list.js';
import { isStopped, MEMO_PERIODIC, searchAttributesWithStatus, stoppedNote } from './periodic-record.js';
import { changeSchedule } from '../temporal/schedule-write.js';

/** Stopped periodic jobs one stop's sweep reads (describes) at most: the next sweep reads on. */
const SWEEP_BATCH = 100;

/** Where the next sweep of stopped jobs reads on (see sweepStopped). */
export interface SweepCursor {
  sweepFrom: number;
}

/**
 * stop: never fires again; stats stay readable (the service stops the running executions).
 * `stats` is what the caller has just read of the job (this and the actions below act on it).
 * Resolves with the executions the schedule itself lists as started (running and recent), read
 * once the pause has taken: the update reaches the schedule asynchronously, so a fire can still
 * start meanwhile, and visibility may not show it yet.
 */
export async function stopPeriodicJob(deps: PeriodicGatewayDeps, cursor: SweepCursor, stats: JobStats): Promise<string[]> {
  const { client } = deps;
  // One write pauses it for good and marks it Stopped for listing (status=Stopped&kind=Periodic).
  const note = stoppedNote();
  const stopped = await changeSchedule(client, stats.id, (schedule) =>
    isStopped(schedule) && schedule.typedSearchAttributes?.get(JobStatusKey) === JobStatus.Stopped
      ? undefined
      : { state: { paused: true, note }, searchAttributes: searchAttributesWithStatus(schedule, stats.name, JobStatus.Stopped) },
  );
  const wrote = stopped.state.note === note;
  // As submitted (the record holds it redacted): what every execution posts to.
  const { action } = stopped;
  const statusHook = action.type === 'startWorkflow' ? (action.args?.[0] as { statusHook?: string } | undefined)?.statusHook : undefined;
  // The stop whose write took posts the Stopped hook. One that found the job stopped (a repeated
  // stop, or one another stop beat) sends it only if no stop started it: one that marked the job
  // but lost Temporal, or was killed, before its hook. Core waits for that hook.
  if (statusHook) await hookStopped(deps, { ...stats, status: JobStatus.Stopped, update_time: nowSec() }, statusHook, { once: !wrote });
  // Not waited for: a stop answers as soon as it has taken.
  deps.background.run((signal) => sweepStopped(deps, cursor, undefined, undefined, signal));
  const { info } = stopped;
  return [...new Set([...info.runningActions, ...info.recentActions.map((a) => a.action)].map((a) => a.workflow.workflowId))];
}

/**
 * Harbor's jobservice posts Stopped for a periodic job it stops, under the periodic job's own id,
 * and core waits for it (its SCHEDULER execution stays Running until then; an unschedule waits
 * 10 s). Delivered by a HookDelivery workflow, retried as any job's hooks are; one per stop.
 */
async function hookStopped(deps: PeriodicGatewayDeps, stopped: JobStats, url: string, { once = false } = {}): Promise<void> {
  const timings = deps.timings.hooks ?? DEFAULT_HOOK_TIMINGS;
  const input: HookDeliveryInput = {
    jobId: stopped.id,
    url,
    timings,
    events: [{ id: `${stopped.id}.stopped`, event: hookEvent(stopped), attempts: 0 }],
  };
  try {
    await boundedRpc(deps.client, () =>
      deps.client.workflow.start(HookDelivery, {
        workflowId: `${stopped.id}-hooks-stopped`,
        taskQueue: deps.taskQueue,
        args: [input],
        staticSummary: `the Stopped status hook of periodic ${stopped.name} job ${stopped.id}`,
        ...(once ? { workflowIdReusePolicy: 'REJECT_DUPLICATE' as const } : {}),
      }),
    );
  } catch (err) {
    // Stopped before (a stop, a resume is refused, so only a stop racing this one): its hook is on
    // its way. With `once`, any hook a stop started, delivered or not.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Harbor's unschedule removes a periodic job; here a stop keeps it readable (`Stopped`), and Harbor
 * core stops and submits anew on every edit of a schedule, so stopped jobs would pile up as
 * paused schedules for ever. Each stop deletes those stopped longer ago than the namespace's
 * retention, as Temporal deletes a finished job's record then (their `die_at` says when).
 * Best effort, `batch` of the list per sweep: the next one reads on.
 */
export async function sweepStopped(
  deps: PeriodicGatewayDeps,
  cursor: SweepCursor,
  keepSeconds?: number,
  batch = SWEEP_BATCH,
  signal?: AbortSignal,
): Promise<number> {
  const { client } = deps;
  const keep = keepSeconds ?? (await namespaceRetentionSeconds(client));
  if (keep === undefined) return 0;
  const query = `${JobKindKey.name} = '${JobKind.Periodic}' AND ${periodicStatusClause(JobStatus.Stopped)}`;
  const before = Date.now() - keep * 1000;
  // Each sweep reads the next `batch` of the list (the list is cheap, a describe is not): stopped
  // jobs still within their retention at its head must not keep the expired ones behind them for ever.
  const from = cursor.sweepFrom;
  let at = 0;
  let read = 0;
  let deleted = 0;
  for await (const summary of client.schedule.list({ query, pageSize: 100 })) {
    if (at++ < from) continue;
    if (read >= batch || signal?.aborted) break;
    read += 1;
    if (!summary.memo?.[MEMO_PERIODIC]) continue;
    const handle = client.schedule.getHandle(summary.scheduleId);
    const description = await boundedRpc(client, () => handle.describe());
    const stoppedAt = description.info.lastUpdatedAt;
    // Another deployment's (a task queue of its own in the same namespace) is its own to sweep.
    const ours = description.action.type === 'startWorkflow' && description.action.taskQueue === deps.taskQueue;
    if (!ours || !isStopped(description) || !stoppedAt || stoppedAt.getTime() > before) continue;
    await boundedRpc(client, () => handle.delete());
    deleted += 1;
  }
  // Past the end of the list, the next sweep starts over at its head.
  cursor.sweepFrom = read >= batch ? from + read - deleted : 0;
  return deleted;
}
