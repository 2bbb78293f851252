/**
 * A job's input as it is stored, and how it is read back. Its workflow is started with its input
 * less every retry and timing value that equals its default (`compactInput`; `expandInput` reads
 * them back), and its start argument and memo both leave out what the workflow derives: its id, a
 * first revision, `unique: false` (`withoutDerivable`; `executionInput` fills them in). Pure:
 * imported by workflow code.
 *
 * The start argument is stored and moved more than anything else a job carries (the start
 * request, the started event, the first activation), and the retry policy and timings were more
 * than half of a NOOP job's input (~600 bytes) while they almost always hold the defaults.
 *
 * The defaults below are part of the workflow's contract: a workflow started with a compact input
 * reads them from the code it replays with. Change one and running jobs recorded without that
 * value would take the new one: add a field instead. An input that carries a value (every input
 * recorded before this form, or a deployment whose configuration differs) is read as it is.
 */
import { DEFAULT_HOOK_TIMINGS, type HookTimings } from './hook-event.js';
import type { JobInput, JobTimings, RecordedInput, RetryPolicy } from './job-model.js';

/**
 * What a stored input (a start argument, a memo) leaves out when the workflow has it: its id (the
 * workflow id), its revision when it is the enqueue time (a first run), `unique` when false.
 * `executionInput` fills them back in.
 */
export type DerivableField = 'id' | 'revision' | 'unique';
export type Stored<T> = Omit<T, DerivableField> & Partial<Pick<JobInput, DerivableField>>;

/** `input` less its id, its revision when it is the enqueue time, and `unique` when false: executionInput derives them. */
export function withoutDerivable<T extends Stored<RecordedInput>>(input: T): Stored<T> {
  const { id: _id, revision, unique, ...rest } = input;
  const stored: Stored<RecordedInput> = rest;
  if (revision !== undefined && revision !== input.enqueueTime) stored.revision = revision;
  if (unique) stored.unique = true;
  return stored as Stored<T>;
}

/**
 * A stored input made whole: its id is the workflow's, its revision the enqueue time unless it
 * says otherwise, `unique` false unless it says so. An execution of a periodic job starts with its
 * schedule's template (no enqueue time): its start time is the job's.
 */
export function executionInput<T extends RecordedInput>(input: Stored<T> | T, workflowId: string, startTime: Date): T {
  if (input.id && input.revision !== undefined && input.unique !== undefined) return input as T;
  if (!input.enqueueTime) {
    const started = Math.floor(startTime.getTime() / 1000);
    return { ...input, id: workflowId, enqueueTime: started, revision: started, unique: input.unique ?? false } as T;
  }
  return { ...input, id: input.id || workflowId, revision: input.revision ?? input.enqueueTime, unique: input.unique ?? false } as T;
}

/** What a job definition that says nothing about retries gets (Harbor's defaults). */
export const RETRY_DEFAULTS: Readonly<RetryPolicy> = Object.freeze({
  maxFails: 4,
  shouldRetry: true,
  initialIntervalMs: 1000,
  maxIntervalMs: 300_000,
});

/** The timings of the configuration's defaults (`job.*` in config-schema: a unit test keeps them equal). */
export const TIMING_DEFAULTS: Readonly<Required<Omit<JobTimings, 'hooks'>>> = Object.freeze({
  stopGraceMs: 10_000,
  heartbeatTimeoutMs: 10_000,
  maxRunMs: 24 * 3600 * 1000,
  fanOutContinueAfterEvents: 8000,
  checkInHistoryEvents: 10_000,
  historyBudgetBytes: 10 * 1024 * 1024,
  queueAskAgainMs: 10 * 60 * 1000,
});

/**
 * A job workflow's start argument: a JobInput whose retry policy and timings may leave out their
 * defaults, and which may leave out what the workflow derives (see Stored).
 */
export type StartInput = Stored<Omit<JobInput, 'retry' | 'timings'>> & {
  retry?: Partial<RetryPolicy>;
  timings?: Partial<Omit<JobTimings, 'hooks'>> & { hooks?: Partial<HookTimings> };
};

/** `input` without the retry and timing values that equal their defaults (and without those objects once empty), nor what the workflow derives. */
export function compactInput(input: StartInput): StartInput {
  const { retry, timings, ...rest } = input;
  const compact: StartInput = withoutDerivable(rest);
  const retryLeft = retry ? differing(retry, RETRY_DEFAULTS) : undefined;
  if (retryLeft) compact.retry = retryLeft;
  if (timings) {
    const { hooks, ...flat } = timings;
    const left: NonNullable<StartInput['timings']> = differing(flat, TIMING_DEFAULTS) ?? {};
    const hooksLeft = hooks ? differing(hooks, DEFAULT_HOOK_TIMINGS) : undefined;
    if (hooksLeft) left.hooks = hooksLeft;
    if (Object.keys(left).length > 0) compact.timings = left;
  }
  return compact;
}

/** The input a workflow runs with, its retry policy and timings whole (executionInput derives the rest). */
export function expandInput(start: StartInput): Stored<JobInput> {
  const { retry, timings, ...rest } = start;
  const { hooks, ...flat } = timings ?? {};
  return {
    ...rest,
    retry: { ...RETRY_DEFAULTS, ...retry },
    timings: { ...TIMING_DEFAULTS, ...flat, hooks: { ...DEFAULT_HOOK_TIMINGS, ...hooks } },
  };
}

/** The entries of `values` that are not `defaults`' (undefined when none is). */
function differing<T extends object>(values: T, defaults: object): Partial<T> | undefined {
  const fallback = defaults as Readonly<Record<string, unknown>>;
  const left = Object.entries(values).filter(([key, value]) => value !== undefined && value !== fallback[key]);
  return left.length > 0 ? (Object.fromEntries(left) as Partial<T>) : undefined;
}
