import type { Client } from '@temporalio/client';
import { isFinal, type JobInput, type JobState, type JobTimings, type RecordedInput } from '../shared/job-model.js';
import { UpstreamJobIdKey } from '../shared/search-attributes.js';
import { JOB_WORKFLOW_TYPES, type JobWorkflowType } from '../shared/job-start.js';
import { expandInput, type StartInput } from '../shared/start-input.js';
import { statsQuery } from '../workflows/job-messages.js';
import { jobView, withLiveRun, type PendingRun } from '../views/job-view.js';
import { notFound } from './api-error.js';
import { boundedRpc } from './bounded-rpc.js';

/** A job as its workflow's describe shows it: its view (memo), with its live run, and the workflow's status. */
export async function readJob(client: Client, id: string) {
  const description = await boundedRpc(client, () => client.workflow.getHandle(id).describe());
  const view = jobView(description.memo, description.workflowId, description.startTime);
  if (!(JOB_WORKFLOW_TYPES as readonly string[]).includes(description.type) || !view) throw notFound(id);
  const { payloadConverter } = client.options.loadedDataConverter;
  const pending = description.raw.pendingActivities as PendingRun[] | null | undefined;
  const state = withLiveRun(await withAllSubJobs(client, id, view.state, description.status.name), pending, (payload) =>
    payloadConverter.fromPayload(payload as Parameters<typeof payloadConverter.fromPayload>[0]),
  );
  return {
    ...view,
    state,
    status: description.status.name,
    type: description.type as JobWorkflowType,
    runId: description.runId,
    closeTime: description.closeTime,
    pending,
    pendingChildren: description.raw.pendingChildren?.length ?? 0,
  };
}

/** How long GET waits for a running job's workflow to list what its memo leaves out. */
const LIVE_LISTS_MS = 2_000;

/**
 * A running job's memo lists its first sub jobs only, and a running fan-out's none (nor its
 * results: state-memo.ts); the workflow has them all. Without a worker to answer, the memo's list
 * is what there is.
 */
async function withAllSubJobs(client: Client, id: string, state: JobState, status: string): Promise<JobState> {
  // A fan-out's memo keeps an empty list where its sub jobs go; any other job lists at least one.
  const fanOut = state.sub_jobs?.length === 0;
  if (!state.sub_jobs_more && !fanOut) return state;
  if (status !== 'RUNNING') return isFinal(state.status) ? state : withSubJobsListed(client, id, state);
  // What the memo lacks is a bonus: with no worker to answer soon (a restart), GET answers from the memo.
  const live = await client
    .withDeadline(Date.now() + LIVE_LISTS_MS, () => client.workflow.getHandle(id).query(statsQuery))
    .catch(() => undefined);
  const { sub_jobs_more: _more, ...rest } = state;
  return {
    ...rest,
    ...(live?.sub_jobs && live.sub_jobs.length > (state.sub_jobs?.length ?? 0) ? { sub_jobs: live.sub_jobs } : {}),
    ...(fanOut && live?.results ? { results: live.results } : {}),
  };
}

/**
 * A job closed from outside (terminate, a cancel before it was final) never wrote its final memo,
 * which lists every sub job: they are read from visibility, in the order they were started.
 */
async function withSubJobsListed(client: Client, id: string, state: JobState): Promise<JobState> {
  const ids: string[] = [];
  await client
    .withDeadline(Date.now() + LIVE_LISTS_MS, async () => {
      const query = `${UpstreamJobIdKey.name} = '${id}' AND ExecutionStatus != 'ContinuedAsNew'`;
      for await (const child of client.workflow.list({ query })) ids.push(child.workflowId);
    })
    .catch(() => undefined);
  const { sub_jobs_more: _more, ...rest } = state;
  const known = new Set(state.sub_jobs);
  const sub_jobs = [...(state.sub_jobs ?? []), ...new Set(ids.reverse().filter((child) => !known.has(child)))];
  return sub_jobs.length > (state.sub_jobs?.length ?? 0) ? { ...rest, sub_jobs } : state;
}

/** The argument a run (the current one without `runId`) was started with, as its first history event holds it. */
export async function startArgument<T>(client: Client, workflowId: string, runId?: string): Promise<T | undefined> {
  const history = await boundedRpc(client, () =>
    client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: runId ? { workflowId, runId } : { workflowId },
      maximumPageSize: 1,
    }),
  );
  const payload = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? client.options.loadedDataConverter.payloadConverter.fromPayload<T>(payload) : undefined;
}

/** The input a run was started with, as its first history event holds it. */
export async function startedWith(
  client: Client,
  timings: JobTimings,
  id: string,
  runId: string,
  fallback: RecordedInput,
): Promise<Omit<JobInput, 'retry'>> {
  const started = await startArgument<StartInput>(client, id, runId);
  // The memo leaves out the timings (the run's own, else today's) and the retry policy (the caller sets today's).
  if (!started) return { ...fallback, timings };
  // An execution of a periodic job starts with the schedule's template; its id and times are its own.
  // A start argument leaves out the timings at their defaults: those are the run's own too.
  return {
    ...fallback,
    parameters: started.parameters,
    ...(started.statusHook ? { statusHook: started.statusHook } : {}),
    timings: expandInput(started).timings,
  };
}
