import type { FanOutPlan } from '../shared/fan-out.js';
import type { JobState, OpCommand } from '../shared/job-model.js';
import type { FinishedExecution, HistoryLimits } from '../schedules/history-limits.js';
import type { HookEvent } from '../shared/hook-event.js';

export interface ExecuteJobInput {
  id: string;
  name: string;
  parameters: Record<string, unknown>;
  revision: number;
  upstreamJobId?: string;
  /** `plan`: run a fan-out job's plan instead of its `run`. */
  mode?: 'plan';
  /** Checked against the type's queue before the job's code runs (absent in runs scheduled before queues existed). */
  admission?: RunAdmission;
  /**
   * `heartbeat`: after the one that reports Running, check-ins ride on the run's heartbeats (read
   * by describe) and come back with its result, instead of an update each.
   * Absent: every check-in is an update (a job with a status hook: its hooks keep their order).
   */
  checkIns?: 'heartbeat';
  /**
   * The workflow builds a target's parameters from its name (FanOutPlan.targetKey): a plan may say
   * them so. Absent (workflow code from before), every target carries its parameters in full.
   */
  compactTargets?: true;
  /**
   * A short job's run (a local activity): the workflow's history length as it scheduled the run. A
   * stop given after it is in the history only once the workflow task that holds the run has been
   * heartbeated (the server buffers it until then); a run that waited that long for a job slot
   * reads it there before the job's code starts.
   */
  scheduledAfterEvent?: number;
}

/** A check-in the run carried in its heartbeats, and hands back with its result. */
export interface CarriedCheckIn {
  message: string;
  /** Unix seconds. */
  at: number;
}

/** What a run heartbeats: the revision (a retry never resumes another run's progress), progress, the last check-in. */
export interface RunHeartbeat {
  revision: number;
  progress?: unknown;
  checkIn?: CarriedCheckIn;
}

export interface RunAdmission {
  /** The job task queue, whose type queues these are. */
  taskQueue: string;
  /** Epoch ms (workflow time) when the run became pending: a queue stop after it stops the run. */
  pendingSinceMs: number;
  /** The queue gave the run a slot. */
  granted: boolean;
  /**
   * When the grant reached the job's workflow (epoch ms, workflow time). A pause given after it
   * still holds the run back, as it does every run not yet started; one given before it does not
   * (the worker's read of the queue may be a moment old).
   */
  grantedAtMs?: number;
  /** The job's first run (no failure before it): a periodic execution's start lateness is measured on it. */
  firstRun?: boolean;
  /**
   * The run goes on from the job's previous run (a fan-out's hand-over, continued as new): the job
   * has started, so a pause given since does not hold it back, as it holds no running job.
   */
  continued?: boolean;
}

/**
 * `done` when the job returned normally (with its plan, in plan mode); the op command that ended
 * it; or `queued`: the type's queue is paused, so the run waits for a slot before it starts.
 */
export type ExecuteJobResult = (
  | { outcome: 'done'; plan?: FanOutPlan }
  /** `ran`: the job's code had started (its hook posts Running before the stop's status). */
  | { outcome: OpCommand; ran?: true }
  | { outcome: 'queued' }
) & {
  /** The last check-in carried in heartbeats, so the job's state keeps it once the run has ended. */
  checkIn?: CarriedCheckIn;
};

export interface EnterQueueInput {
  taskQueue: string;
  jobType: string;
  jobId: string;
  ticket: string;
  at: number;
  limit?: number;
}

export interface PruneExecutionsInput {
  /** The periodic job (schedule) whose executions are pruned. */
  upstreamJobId: string;
  /** The execution that is ending now (its run's start), and its run. */
  self: FinishedExecution & { runId?: string };
  limits: HistoryLimits;
}

export interface PruneBatchInput {
  /** The batch job's name; its executions are the jobs of that name. */
  name: string;
  /** The execution ending now, kept. */
  selfId: string;
  /** This deployment's job task queue: another deployment's executions in the namespace are not ours. */
  taskQueue: string;
  keep: number;
  /** Whether the execution ending now succeeded, and when it began (a submitted job's enqueue time, epoch ms). */
  selfSucceeded?: boolean;
  selfBeganAtMs?: number;
  /** What a periodic job's history limits and failure streak keep, which the report history spares. */
  spared?: HistoryLimits;
  /**
   * The periodic job (or parent job) the execution belongs to: its series is the executions with
   * the same upstream; without one, the batch jobs of that name submitted on their own.
   */
  upstreamJobId?: string;
}

export interface ScheduleHealthInput {
  /** The periodic job (schedule). */
  scheduleId: string;
  jobName: string;
  /** The execution that just failed, as Harbor names it (`<id>@<epoch>`). */
  executionId: string;
  lastError?: string;
  pauseAfter: number;
}

export interface ScheduleHealthResult {
  /** Failed executions in a row, this one included. */
  failures: number;
  /** Whether this call paused the schedule. */
  paused: boolean;
}

export interface DeliverHookInput {
  url: string;
  event: HookEvent;
  /** Stable across the event's attempts (absent for events recorded before ids). */
  eventId?: string;
  timeoutMs: number;
  /**
   * A hand-over's attempt after the first, with the run of the job that handed it over: an event
   * another run of the job with a newer revision has outdated is not sent again.
   */
  outdatedUnlessRun?: string;
}

/**
 * A receiver that answered other than 2xx, or could not be reached, is `ok: false` with why;
 * `httpStatus` when it answered; `outdated`, not sent: the job's newer revision.
 */
export type DeliverHookResult = ({ ok: true } | { ok: false; error: string }) & { httpStatus?: number; outdated?: number };

/** The activities a job workflow calls. Workflows import this type only, never the implementation. */
export interface JobActivities {
  executeJob(input: ExecuteJobInput): Promise<ExecuteJobResult>;
  /** Deletes executions beyond a periodic job's history limits; returns the deleted ids. */
  pruneExecutions(input: PruneExecutionsInput): Promise<string[]>;
  /** Deletes a batch job's executions beyond its report history; returns the deleted ids. */
  pruneBatchExecutions(input: PruneBatchInput): Promise<string[]>;
  /** After a failed execution of a periodic job: counts the failures in a row, pauses the schedule at its limit. */
  checkScheduleHealth(input: ScheduleHealthInput): Promise<ScheduleHealthResult>;
  /** Puts a run in line at its type's queue (starting the queue's workflow if need be). */
  enterQueue(input: EnterQueueInput): Promise<void>;
  /** One attempt at POSTing a status hook event. */
  deliverHook(input: DeliverHookInput): Promise<DeliverHookResult>;
  /** After a reset: deletes the job's runs but its current one; returns how many. */
  deleteSupersededRuns(input: SupersededRunsInput): Promise<number>;
  windUpReplacedTargets(input: ReplacedTargetsInput): Promise<number>;
  /** A reset run waits here for the replaced run's activity to wind down; returns the ms waited. */
  outwaitReplacedRun(input: ReplacedTargetsInput): Promise<number>;
  /** A fan-out's target closed from outside: its state as GET shows it. */
  readClosedTarget(input: ClosedTargetInput): Promise<JobState | undefined>;
}

export interface ClosedTargetInput {
  jobId: string;
}

export interface ReplacedTargetsInput {
  /** The job a reset re-runs. */
  jobId: string;
  /** The run that replaces the others (a fan-out's: its own targets are not stopped). */
  runId: string;
  /** How long the replaced run's targets (once stopped), or its activity, are waited for. */
  waitMs: number;
}

export interface SupersededRunsInput {
  /** The job's id; its current run is the one that stays. */
  workflowId: string;
}
