import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { isFinal, OpCommand, type JobStatus, type JobTimings } from '../shared/job-model.js';
import { mapLimit } from '../process/limits.js';
import { cancelSignal, stopSignal } from '../workflows/job-messages.js';
import { UpstreamJobIdKey } from '../shared/search-attributes.js';
import type { PendingRun } from '../views/job-view.js';
import { ApiError, conflict } from './api-error.js';
import { readJob } from './job-reads.js';
import { boundedRpc } from './bounded-rpc.js';

/** How long a retry or a unique resubmit waits for a finished job's workflow to hand its hooks over and close. */
const WIND_UP_WAIT_MS = 10_000;

/**
 * A finished job whose workflow stays open to deliver its last hooks (a receiver's outage can
 * last hours) hands them over to HookDelivery and closes, as on a workflow cancel (see the
 * workflow's 'final-job-outlives-cancel'), so a retry or a unique resubmit need not wait for the
 * receiver. Work the job started that still runs is not wound up: a run that ignored its stop (an
 * `executeJob` still out) or child workflows (a fan-out's targets, sub jobs) still open; a new
 * run beside them could run the job's code twice at once.
 */
export async function windUp(
  client: Client,
  id: string,
  runId: string,
  status: JobStatus,
  pending: PendingRun[] | null | undefined,
  pendingChildren: number,
): Promise<void> {
  if (pending?.some((a) => a.activityType?.name === 'executeJob') || pendingChildren > 0) {
    throw conflict(
      `job ${id} is ${status} but work it started still runs (a run that ignored the stop, or its child jobs); try again once it has returned`,
      id,
    );
  }
  const handle = client.workflow.getHandle(id, runId);
  await boundedRpc(client, () => handle.cancel());
  const deadline = Date.now() + WIND_UP_WAIT_MS;
  for (;;) {
    const { status: now } = await boundedRpc(client, () => handle.describe());
    if (now.name !== 'RUNNING') return;
    if (Date.now() >= deadline) throw conflict(`job ${id} is ${status} and still hands over its last hooks; try again shortly`, id);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A closed job's children (a fan-out's targets, sub jobs) are not closed with it: one terminated
 * from outside leaves them running. A retry meanwhile would start them again beside themselves.
 */
export async function refuseWhileChildrenRun(client: Client, id: string, status: JobStatus): Promise<void> {
  const { count } = await boundedRpc(client, () =>
    client.workflow.count(`${UpstreamJobIdKey.name} = '${id}' AND ExecutionStatus = 'Running'`),
  );
  if (count > 0) {
    throw conflict(`job ${id} is ${status} but ${count} of the jobs it started still run; try again once they have ended`, id);
  }
}

/**
 * A terminated workflow cannot wait for its run: one that was going keeps working on its worker
 * until a heartbeat finds the workflow gone and the run lets go of its stop (a heartbeat timeout,
 * then the stop grace). A retry before that could run the job twice at once, so it is refused
 * while the closed run's history shows a run that never ended. Short jobs' local runs leave no
 * trace until they end, and their cap bounds them.
 */
export async function refuseWhileOrphanMayRun(
  client: Client,
  id: string,
  runId: string,
  closedAt: Date,
  timings: JobTimings,
): Promise<void> {
  const leftMs = closedAt.getTime() + timings.heartbeatTimeoutMs + timings.stopGraceMs - Date.now();
  if (leftMs <= 0) return;
  const scheduled = new Set<string>();
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await boundedRpc(client, () =>
      client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId: id, runId },
        ...(nextPageToken ? { nextPageToken } : {}),
      }),
    );
    for (const event of page.history?.events ?? []) {
      const attributes =
        event.activityTaskCompletedEventAttributes ??
        event.activityTaskFailedEventAttributes ??
        event.activityTaskTimedOutEventAttributes ??
        event.activityTaskCanceledEventAttributes;
      if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'executeJob') scheduled.add(String(event.eventId));
      else if (attributes) scheduled.delete(String(attributes.scheduledEventId));
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  if (scheduled.size > 0) {
    throw conflict(
      `job ${id} was terminated while its run was going, which may still be working on its worker; try again in ${Math.ceil(leftMs / 1000)} s`,
      id,
    );
  }
}

/** Deletes one run of a job (a retried or resubmitted one); best effort, its log lines stay. */
export async function deleteRun(client: Client, id: string, runId: string): Promise<void> {
  await boundedRpc(client, () =>
    client.workflowService.deleteWorkflowExecution({ namespace: client.options.namespace, workflowExecution: { workflowId: id, runId } }),
  ).catch(() => undefined);
}

/**
 * A job whose workflow was ended from outside (terminated, timed out) ran none of its own code
 * to pass a stop on: its sub jobs and targets still running get the stop or cancel here, as the
 * job's own ending would have given it them. A job that ended by itself has done so already.
 */
export async function passOnForClosed(client: Client, id: string, op: OpCommand): Promise<void> {
  const read = await readJob(client, id).catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError || (err instanceof ApiError && err.status === 404)) return undefined;
    throw err;
  });
  if (!read || (read.status !== 'TERMINATED' && read.status !== 'TIMED_OUT')) return;
  // One that had ended by itself (its workflow stayed open for its hooks, then was terminated)
  // passed its stop on, if any: its sub jobs outlive it.
  if (isFinal(read.state.status)) return;
  await passOnToRunningChildren(client, id, op);
}

/**
 * The job's stop or cancel, sent to its running children (a fan-out's targets, sub jobs) straight
 * away too: the job's workflow passes it on only once it has taken it, which after its worker was
 * lost waits on that worker's sticky queue (about 10 s), while a child's run retried on a live
 * worker would read no stop in its own history and start over (a RETENTION repository job deleting
 * after the 204).
 */
export async function passOnToRunningChildren(client: Client, id: string, op: OpCommand): Promise<void> {
  const running: string[] = [];
  await boundedRpc(client, async () => {
    for await (const child of client.workflow.list({ query: `${UpstreamJobIdKey.name} = '${id}' AND ExecutionStatus = 'Running'` }))
      running.push(child.workflowId);
  });
  await mapLimit(running, 8, (child) =>
    boundedRpc(client, () => client.workflow.getHandle(child).signal(op === OpCommand.Cancel ? cancelSignal : stopSignal)).catch(
      (err: unknown) => {
        // One that ended meanwhile has nothing left to stop.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      },
    ),
  );
}
