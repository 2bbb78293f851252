import type { Client, ScheduleSummary } from '@temporalio/client';
import { JobKind, JobStatus, type JobStats } from '../shared/job-model.js';
import { JobKindKey, JobNameKey, JobStatusKey, JobTaskQueueKey } from '../shared/search-attributes.js';
import { boundedRpc } from './bounded-rpc.js';
import type { ListJobsQuery } from './contract.js';
import { isStopped, MEMO_PERIODIC, searchAttributesWithStatus, type PeriodicRecord } from './periodic-record.js';
import { summaryStats } from './periodic-stats.js';
import { changeSchedule } from '../temporal/schedule-write.js';
import { firstRow, readPage, type Listed } from './visibility-page.js';

/**
 * Periodic jobs of this deployment's task queue, newest first. Schedules carry the job's name,
 * kind, status and task queue as search attributes, so filters run in visibility like those of
 * other jobs. A schedule made before it carried its task queue is listed by every deployment, as
 * all were then.
 */
export async function listPeriodicJobs(client: Client, taskQueue: string, query: ListJobsQuery): Promise<Listed<JobStats>> {
  // The task queue is the configuration's (`temporal.task_queue`), whose schema admits no quote.
  const clauses = [
    `${JobKindKey.name} = '${JobKind.Periodic}'`,
    `(${JobTaskQueueKey.name} = '${taskQueue}' OR ${JobTaskQueueKey.name} IS NULL)`,
  ];
  // Values are validated enums or upper-snake names, so they cannot break out of the quotes.
  if (query.name) clauses.push(`${JobNameKey.name} = '${query.name}'`);
  if (query.status) clauses.push(periodicStatusClause(query.status));
  const filter = clauses.join(' AND ');
  const { count } = await boundedRpc(client, () => client.workflow.count(`${SCHEDULER_DIVISION} AND ${filter}`));
  const stale: Promise<void>[] = [];
  const { jobs, nextCursor } = await boundedRpc(client, () =>
    readPage(
      count,
      firstRow(query),
      query.page_size,
      (serverPageSize) => client.schedule.list({ query: filter, pageSize: serverPageSize }),
      (summary) => {
        const record = summary.memo?.[MEMO_PERIODIC] as PeriodicRecord | undefined;
        if (record) stale.push(clearStaleStopMark(client, summary.scheduleId, record.name, summary));
        return record ? summaryStats(record, summary) : undefined;
      },
    ),
  );
  await Promise.all(stale);
  return { total: count, jobs, nextCursor };
}

/**
 * A stop marks the schedule Stopped for visibility's filters, and an operator's unpause (`temporal
 * schedule toggle --unpause`) revives the job without clearing the mark; a later operator pause
 * would then list it as Stopped where GET reads a paused Scheduled job. Whichever read first sees
 * a mark its schedule's state no longer bears out clears it. Best effort: a stop racing this one
 * changes the schedule first and the update is refused; the next read tries again.
 */
export async function clearStaleStopMark(
  client: Client,
  id: string,
  name: string,
  seen: Pick<ScheduleSummary, 'state' | 'typedSearchAttributes'>,
): Promise<void> {
  const stale = (schedule: typeof seen) => schedule.typedSearchAttributes?.get(JobStatusKey) === JobStatus.Stopped && !isStopped(schedule);
  if (!stale(seen)) return;
  await changeSchedule(client, id, (schedule) =>
    stale(schedule) ? { searchAttributes: searchAttributesWithStatus(schedule, name, JobStatus.Scheduled) } : undefined,
  ).catch(() => undefined);
}

/**
 * Schedules live in visibility beside workflows, marked with this division; a deleted schedule's
 * closed record stays until retention, and is no job.
 */
const SCHEDULER_DIVISION = `TemporalNamespaceDivision = 'TemporalScheduler' AND ExecutionStatus = 'Running'`;

/**
 * The visibility filter for a status. A stop pauses the schedule and marks it Stopped in one
 * update; an operator's unpause (`temporal schedule toggle --unpause`) revives the job and leaves
 * the mark, so a Stopped mark counts only while the schedule is paused (`TemporalSchedulePaused`
 * is Temporal's own). GET reads the stop's note, which the schedule's state has at once.
 */
export function periodicStatusClause(status: JobStatus): string {
  const marked = `${JobStatusKey.name} = '${JobStatus.Stopped}'`;
  if (status === JobStatus.Stopped) return `(${marked} AND TemporalSchedulePaused = true)`;
  if (status === JobStatus.Scheduled) {
    return `(${JobStatusKey.name} = '${JobStatus.Scheduled}' OR (${marked} AND TemporalSchedulePaused = false))`;
  }
  return `${JobStatusKey.name} = '${status}'`;
}
