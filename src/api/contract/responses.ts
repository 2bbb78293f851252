import { z } from '@hono/zod-openapi';
import type { HookEvent } from '../../shared/hook-event.js';
import type { HookRecord } from '../../workflows/hook-outbox.js';
import { JOB_KINDS, JOB_STATUSES } from '../../shared/job-model.js';

export const JobStatsSchema = z
  .object({
    id: z.string(),
    status: z.enum(JOB_STATUSES),
    name: z.string(),
    kind: z.enum(JOB_KINDS),
    unique: z.boolean(),
    ref_link: z.string(),
    enqueue_time: z.number().int(),
    update_time: z.number().int(),
    run_at: z.number().int().optional(),
    check_in: z.string().optional(),
    check_in_at: z.number().int().optional(),
    die_at: z.number().int().optional(),
    web_hook_url: z.string().optional(),
    /** The seed README's name for web_hook_url, with the same value. */
    hook_status: z.string().optional(),
    upstream_job_id: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()),
    revision: z.number().int(),
    fails: z.number().int().optional(),
    last_error: z.string().optional(),
    sub_jobs: z.array(z.string()).optional(),
    /** The seed README's Job Execution: the sub jobs' ids, and whether the job has any. */
    executions: z.array(z.string()).optional(),
    multiple_executions: z.boolean().optional(),
    /** A fan-out job's outcome per target (e.g. per repository of a RETENTION job). */
    results: z
      .record(z.string(), z.object({ job_id: z.string(), status: z.string(), summary: z.record(z.string(), z.unknown()).optional() }))
      .optional(),
    // Periodic jobs only.
    cron_spec: z.string().optional(),
    options: z.record(z.string(), z.unknown()).optional(),
    paused: z.boolean().optional(),
    paused_note: z.string().optional(),
    next_run_times: z.array(z.string()).optional(),
    last_schedule_time: z.number().int().optional(),
    last_successful_time: z.number().int().optional(),
    active: z.number().int().optional(),
    missed: z.number().int().optional(),
    skipped: z.number().int().optional(),
    consecutive_failures: z.number().int().optional(),
  })
  .openapi('JobStats');

export const JobEnvelopeSchema = z.object({ job: JobStatsSchema });
export const JobListSchema = z.array(JobEnvelopeSchema);

/** What a job's `status_hook` receives (Harbor's `job.StatusChange`), POSTed as JSON. */
export const HookEventSchema = z
  .object({
    job_id: z.string(),
    status: z.enum(JOB_STATUSES),
    check_in: z.string().optional(),
    metadata: JobStatsSchema,
  })
  .openapi('HookEvent');
// The workflows build events from a plain interface (no zod in the bundle); keep the two in step.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const hookEventMatches: Same<z.infer<typeof HookEventSchema>, HookEvent> = true;
void hookEventMatches;

export const WorkerPoolSchema = z.object({
  worker_pool_id: z.string(),
  started_at: z.number().int(),
  heartbeat_at: z.number().int(),
  job_names: z.array(z.string()),
  concurrency: z.number().int(),
  host: z.string(),
  status: z.enum(['Healthy', 'Dead']),
  /** Slots busy with runs that ignored a stop: their jobs are Stopped or Cancelled, their code still runs. */
  abandoned_runs: z.number().int(),
});
export const WorkerPoolsSchema = z.object({ worker_pools: z.array(WorkerPoolSchema) }).openapi('WorkerPools');
export type WorkerPool = z.infer<typeof WorkerPoolSchema>;

/** The seed README's error body; `code` is Harbor's numeric error code. */
export const ErrorBodySchema = z
  .object({
    code: z.number().int(),
    err: z.string(),
    description: z.string().optional(),
    /** On a 409 for a unique job: the job that is still active. */
    job_id: z.string().optional(),
  })
  .openapi('Error');
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** One target of a batch job's execution: its job, how it ended, what it reported. */
export const TargetReportSchema = z.object({
  job_id: z.string(),
  status: z.string(),
  results: z.record(z.string(), z.array(z.object({ value: z.number(), labels: z.record(z.string(), z.string()) }))),
  events: z.array(z.object({ reason: z.string(), message: z.string(), warning: z.boolean(), at: z.number() })),
  files: z.array(z.string()),
});

export const JobReportSchema = z
  .object({
    job_id: z.string(),
    status: z.enum(JOB_STATUSES),
    /** The execution's last progress check-in: `{targets, done, failed, running, …}`. */
    progress: z.record(z.string(), z.unknown()).optional(),
    targets: z.record(z.string(), TargetReportSchema),
  })
  .openapi('JobReport');
export type JobReport = z.infer<typeof JobReportSchema>;

/** One job type's queue (Harbor 2.7's `/jobservice/queues` row, with running and the limit). */
export const QueueRowSchema = z
  .object({
    job_type: z.string(),
    /** Jobs of the type waiting to run (Pending). */
    count: z.number().int(),
    running: z.number().int(),
    /** Seconds since the longest-waiting pending job became pending; 0 when none waits. */
    latency: z.number().int(),
    paused: z.boolean(),
    /** Runs of the type at once across every worker; null: no limit. */
    concurrency_limit: z.number().int().nullable(),
  })
  .openapi('JobQueue');
export type QueueRow = z.infer<typeof QueueRowSchema>;
export const QueuesSchema = z.array(QueueRowSchema).openapi('JobQueues');

/** One status hook event of a job and its delivery attempts. */
export const HookRecordSchema = z.object({
  /** The `X-Jobservice-Event-Id` header: the same on every attempt. */
  id: z.string(),
  status: z.string(),
  check_in: z.string().optional(),
  attempts: z.array(z.object({ at: z.number().int(), http_status: z.number().int().optional(), error: z.string().optional() })),
  /** replaced: a newer check-in went out instead, or a newer revision of the job (a retry) outdated it. */
  outcome: z.enum(['delivered', 'pending', 'given_up', 'replaced']),
});
export const HookLogSchema = z
  .object({ job_id: z.string(), status_hook: z.string().nullable(), events: z.array(HookRecordSchema) })
  .openapi('HookLog');
export type HookLog = z.infer<typeof HookLogSchema>;
// The workflows build records from a plain interface (no zod in the bundle); keep the two in step.
const hookRecordMatches: Same<z.infer<typeof HookRecordSchema>, HookRecord> = true;
void hookRecordMatches;
