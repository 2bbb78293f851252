/**
 * How a job's workflow starts, defined once: its id, type, memo and search attributes, for the
 * API's starts, a parent's sub jobs and a schedule's action alike; and how an execution of a
 * periodic job takes its own id and times. Pure: imported by workflow code.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { initialState, JobKind, MEMO_INPUT, MEMO_STATE, type JobInput, type JobState, type RecordedInput } from './job-model.js';
import { jobSearchAttributes } from './search-attributes.js';
import { redactParameters, redactText } from './redact.js';
import { compactInput, withoutDerivable, type StartInput, type Stored } from './start-input.js';

/** Workflow types of jobs; other workflows in the namespace are not jobs. */
export const JOB_WORKFLOW_TYPES = ['GenericJob', 'ScheduledJob'] as const;
export type JobWorkflowType = (typeof JOB_WORKFLOW_TYPES)[number];

/** The visibility filter for this deployment's jobs: job workflows on its task queue (other workflows are not jobs). */
export function jobsOfTaskQueue(taskQueue: string): string {
  return `WorkflowType IN (${JOB_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ')}) AND TaskQueue = '${taskQueue}'`;
}

/** Generic and Scheduled jobs run the same code under their own type names, so the Web UI tells them apart. */
export function jobWorkflowType(kind: JobKind): JobWorkflowType {
  return kind === JobKind.Generic ? 'GenericJob' : 'ScheduledJob';
}

export interface JobStartOptions {
  workflowId: string;
  args: [StartInput];
  memo: Record<string, unknown>;
  typedSearchAttributes: SearchAttributePair[];
  staticSummary: string;
}

/**
 * Everything a job's workflow starts with. The memo carries the input and, when it is not the one
 * the input implies (`initialState`, which readers derive: see views/job-view), the state it starts
 * in: every byte of a start is stored and read back by the server, and a submit's memo state
 * would only repeat the input.
 */
export function jobStartOptions(input: JobInput, state?: JobState): JobStartOptions {
  return {
    workflowId: input.id,
    // Retry and timing values at their defaults and what the workflow derives stay out (see start-input).
    args: [compactInput(input)],
    // The memo is what the Web UI, lists and stats show: no secrets in it (the input keeps them for the job).
    memo: { [MEMO_INPUT]: recordedInput(input), ...(state ? { [MEMO_STATE]: state } : {}) },
    typedSearchAttributes: jobSearchAttributes(input, (state ?? initialState(input)).status),
    staticSummary: input.upstreamJobId
      ? `${input.name} job (${input.kind}) of upstream job ${input.upstreamJobId}`
      : `${input.name} job (${input.kind})`,
  };
}

/** The input as the memo shows it: secrets hidden, none of what only the workflow reads, nor what it derives (see withoutDerivable). */
export function recordedInput(input: JobInput): Stored<RecordedInput> {
  const { timings: _timings, retry: _retry, ...shown } = input;
  return withoutDerivable({
    ...shown,
    parameters: redactParameters(input.parameters),
    // A retry reads the hook URL from the run's input, not from here (JobGateway.startedWith).
    ...(input.statusHook ? { statusHook: redactText(input.statusHook) } : {}),
  });
}

/**
 * A schedule starts every execution of a periodic job with this one input: no id or times of its
 * own yet (see executionInput). Its memo has the input only; the state appears with its first task.
 */
export function periodicExecutionTemplate(
  periodicId: string,
  fields: Pick<
    JobInput,
    | 'name'
    | 'parameters'
    | 'retry'
    | 'timings'
    | 'statusHook'
    | 'historyLimits'
    | 'fanOut'
    | 'concurrency'
    | 'pauseAfterFailures'
    | 'shortCapMs'
    | 'abandonOnCancel'
  >,
): {
  input: JobInput;
  memo: Record<string, unknown>;
  typedSearchAttributes: SearchAttributePair[];
  staticSummary: string;
} {
  const input: JobInput = {
    id: '',
    kind: JobKind.Scheduled,
    unique: false,
    upstreamJobId: periodicId,
    enqueueTime: 0,
    revision: 0,
    ...fields,
  };
  if (!input.statusHook) delete input.statusHook;
  if (!input.historyLimits) delete input.historyLimits;
  if (!input.fanOut) delete input.fanOut;
  if (input.concurrency === undefined) delete input.concurrency;
  if (input.pauseAfterFailures === undefined) delete input.pauseAfterFailures;
  if (input.shortCapMs === undefined) delete input.shortCapMs;
  if (!input.abandonOnCancel) delete input.abandonOnCancel;
  const { memo, typedSearchAttributes } = jobStartOptions(input);
  return {
    input,
    memo: { [MEMO_INPUT]: memo[MEMO_INPUT] },
    typedSearchAttributes,
    staticSummary: `${fields.name} job, execution of periodic job ${periodicId}`,
  };
}

/** A sub job: a Generic job of its own whose upstream is the job that launched it. */
export function childJobInput(
  parent: JobInput,
  request: {
    name: string;
    parameters: Record<string, unknown>;
    retry: JobInput['retry'];
    concurrency?: number;
    shortCapMs?: number;
    target?: string;
    fanOut?: boolean;
    statusHook?: string;
  },
  id: string,
  now: number,
): JobInput {
  const child: JobInput = {
    id,
    name: request.name,
    kind: JobKind.Generic,
    parameters: request.parameters,
    unique: false,
    upstreamJobId: parent.id,
    enqueueTime: now,
    revision: now,
    retry: request.retry,
    timings: parent.timings,
  };
  if (request.target !== undefined) child.fanOutTarget = request.target;
  if (request.concurrency !== undefined) child.concurrency = request.concurrency;
  if (request.shortCapMs !== undefined) child.shortCapMs = request.shortCapMs;
  if (request.fanOut) child.fanOut = true;
  if (request.statusHook !== undefined) child.statusHook = request.statusHook;
  return child;
}
