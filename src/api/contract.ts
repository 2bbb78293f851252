/**
 * The HTTP contract of `/api/v1`: every request and reply shape, as zod schemas. The route
 * definitions (routes/route-defs.ts) validate with these, types come from `z.infer`, and
 * `/openapi.json` is generated from the routes.
 */
import { z } from '@hono/zod-openapi';
import { FILE_NAME } from '../jobs/batch/report.js';
import { CronSpecError, parseCronSpec, splitCronZone } from '../schedules/cron-spec.js';
import { MAX_HISTORY_LIMIT } from '../schedules/history-limits.js';
import type { HookEvent } from '../shared/hook-event.js';
import type { HookRecord } from '../workflows/hook-outbox.js';
import { ANY_JOB_ID_PATTERN } from '../shared/job-id.js';
import { urlCarries } from '../shared/url-parts.js';
import { QUEUE_ACTIONS } from '../shared/job-queue.js';
import { JOB_KINDS, JOB_NAME_PATTERN, JOB_STATUSES, JobKind } from '../shared/job-model.js';

/** Longest delay a Scheduled job may ask for: one year. */
export const MAX_SCHEDULE_DELAY_SECONDS = 365 * 24 * 60 * 60;

export const JobMetadataSchema = z
  .object({
    kind: z.enum(JOB_KINDS),
    schedule_delay: z.number().int().min(0).max(MAX_SCHEDULE_DELAY_SECONDS).optional(),
    cron_spec: z.string().max(256).optional(),
    unique: z.boolean().optional(),
    // Kubernetes CronJob options, Periodic jobs only.
    timezone: z.string().min(1).max(64).optional(),
    concurrency_policy: z.enum(['Allow', 'Forbid', 'Replace']).optional(),
    starting_deadline_seconds: z.number().int().min(10).max(MAX_SCHEDULE_DELAY_SECONDS).optional(),
    suspend: z.boolean().optional(),
    jitter_seconds: z
      .number()
      .int()
      .min(0)
      .max(24 * 3600)
      .optional(),
    successful_jobs_history_limit: z.number().int().min(0).max(MAX_HISTORY_LIMIT).optional(),
    failed_jobs_history_limit: z.number().int().min(0).max(MAX_HISTORY_LIMIT).optional(),
    /** Run once soon after the periodic job is created (after startup_delay seconds), then on its cron. */
    run_on_startup: z.boolean().optional(),
    startup_delay: z
      .number()
      .int()
      .min(0)
      .max(24 * 3600)
      .optional(),
    /** Pause the periodic job once this many of its executions in a row have failed (Error). */
    pause_after_failures: z.number().int().min(1).max(100).optional(),
  })
  .strict();
export type JobMetadata = z.infer<typeof JobMetadataSchema>;
export const PERIODIC_OPTIONS = [
  'timezone',
  'concurrency_policy',
  'starting_deadline_seconds',
  'suspend',
  'jitter_seconds',
  'successful_jobs_history_limit',
  'failed_jobs_history_limit',
  'run_on_startup',
  'startup_delay',
  'pause_after_failures',
] as const satisfies readonly (keyof JobMetadata)[];

export type PeriodicOptionKey = (typeof PERIODIC_OPTIONS)[number];

/**
 * Which metadata a kind takes, and whether a cron spec and time zone make sense: every 400 about
 * the shape of a request comes from the schema, so from one place.
 */
function checkMetadataForKind(metadata: JobMetadata, ctx: z.RefinementCtx): void {
  const issue = (field: keyof JobMetadata, message: string) => ctx.addIssue({ code: 'custom', path: ['job', 'metadata', field], message });
  const { kind, schedule_delay: delay, cron_spec: cron, unique } = metadata;
  if (kind !== JobKind.Periodic) {
    const misplaced = PERIODIC_OPTIONS.find((option) => metadata[option] !== undefined);
    if (misplaced) issue(misplaced, 'only Periodic jobs take this option');
    if (cron !== undefined) issue('cron_spec', 'only Periodic jobs take a cron spec');
    if (kind === JobKind.Scheduled && !delay) issue('schedule_delay', 'a Scheduled job needs a delay of at least 1 second');
    if (kind === JobKind.Generic && delay) issue('schedule_delay', 'only Scheduled jobs take a delay');
    return;
  }
  if (delay) issue('schedule_delay', 'a Periodic job takes a cron spec, not a delay');
  if (unique) issue('unique', 'Periodic jobs cannot be unique');
  if (!cron) {
    issue('cron_spec', 'a Periodic job needs a cron spec');
  } else {
    try {
      parseCronSpec(cron);
    } catch (err) {
      if (!(err instanceof CronSpecError)) throw err;
      issue('cron_spec', err.message);
    }
  }
  if (metadata.startup_delay !== undefined && !metadata.run_on_startup) issue('startup_delay', 'only with run_on_startup');
  if (metadata.timezone !== undefined) {
    const problem = zoneProblem(metadata.timezone);
    if (problem) issue('timezone', problem);
  }
  const { zone } = cron ? splitCronZone(cron) : {};
  if (zone !== undefined) {
    const problem = zoneProblem(zone);
    if (problem) issue('cron_spec', `CRON_TZ=${zone}: ${problem}`);
    else if (metadata.timezone !== undefined && metadata.timezone !== zone)
      issue('cron_spec', `names the zone ${zone} where timezone says ${metadata.timezone}`);
  }
}

/**
 * Why Temporal would refuse a zone, as far as Node can tell. Node's ICU takes names in any case
 * (`america/new_york`), Go's `time.LoadLocation` on the server only as spelt (`America/New_York`),
 * as Kubernetes' CronJob validation does; the server's refusal of what ICU cannot judge (an alias
 * in the wrong case) is a 400 too (`PeriodicGateway.create`).
 */
function zoneProblem(zone: string): string | undefined {
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return `${JSON.stringify(zone)} is not an IANA time zone`;
  }
  if (canonical !== zone && canonical.toLowerCase() === zone.toLowerCase()) {
    return `${JSON.stringify(zone)} is not spelt as the IANA name is (time zone names are case-sensitive): ${JSON.stringify(canonical)}`;
  }
  return undefined;
}

/**
 * How deep a job's parameters may nest. Every layer that handles them (redaction, canonical JSON for
 * unique ids, Temporal's payload converter) walks them recursively: a few kilobytes nested a few
 * thousand levels deep would overflow the stack there, where this refuses them at the door.
 */
export const MAX_PARAMETER_DEPTH = 64;

/** The nesting depth of a value, read without recursion; a string holding JSON text nests as that. */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    let inner: unknown = item;
    if (typeof item === 'string') {
      const first = item.trimStart()[0];
      if (first !== '{' && first !== '[') continue;
      try {
        inner = JSON.parse(item);
      } catch {
        continue;
      }
    }
    if (inner === null || typeof inner !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_PARAMETER_DEPTH) return deepest;
    for (const child of Object.values(inner)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Where a job's status changes are POSTed; a sub job's (`ctx.launchJob`) is checked against the same. */
export const StatusHookUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine(
    (u) => !urlCarries(u, { credentials: true }),
    'must carry no credentials (user:password@): they would be sent nowhere and shown everywhere',
  );

export const JobRequestSchema = z
  .object({
    job: z
      .object({
        name: z.string().min(1).max(128),
        // Harbor core sends `null` for a job without parameters (its SCHEDULER tasks): the same as none.
        parameters: z
          .record(z.string(), z.unknown())
          .refine((parameters) => nestingDepth(parameters) <= MAX_PARAMETER_DEPTH, {
            message: `nest deeper than ${MAX_PARAMETER_DEPTH} levels (JSON text inside a string counts too)`,
          })
          .nullable()
          .optional(),
        status_hook: z.union([z.literal(''), StatusHookUrlSchema]).optional(),
        metadata: JobMetadataSchema,
      })
      .strict(),
  })
  .strict()
  .superRefine((request, ctx) => checkMetadataForKind(request.job.metadata, ctx))
  .openapi('JobRequest');
export type JobRequest = z.infer<typeof JobRequestSchema>;

/** `action` is any string here: an unknown action is Harbor's 501, not a 400. */
export const JobActionRequestSchema = z
  .object({ action: z.string().min(1).max(64) })
  .strict()
  .openapi('JobActionRequest');
export const KNOWN_ACTIONS = ['stop', 'cancel', 'retry', 'pause', 'resume', 'trigger'] as const;
export type JobAction = (typeof KNOWN_ACTIONS)[number];

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

const positiveInt = (fallback: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a positive whole number').transform(Number).pipe(z.number().int().min(1).max(max)).default(fallback);

export const ListJobsQuerySchema = z
  .object({
    page_number: positiveInt(1, 1_000_000),
    page_size: positiveInt(25, 100),
    /**
     * Harbor's cursor: the `Next-Cursor` of the page before (0 or absent: from the start). Given,
     * `page_number` is ignored, as Harbor does.
     */
    cursor: z
      .string()
      .regex(/^\d{1,9}$/, 'must be a whole number: the Next-Cursor header of the page before, 0 to start')
      .transform(Number)
      .optional(),
    status: z.enum(JOB_STATUSES).optional(),
    kind: z.enum(JOB_KINDS).optional(),
    name: z.string().regex(JOB_NAME_PATTERN, 'must be an upper snake case job name').optional(),
  })
  .strict();
export type ListJobsQuery = z.infer<typeof ListJobsQuerySchema>;

export const ExecutionsQuerySchema = z
  .object({
    page_number: positiveInt(1, 1_000_000),
    page_size: positiveInt(25, 100),
    non_dead_only: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .default(false),
  })
  .strict();
export type ExecutionsQuery = z.infer<typeof ExecutionsQuerySchema>;

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

/**
 * A job id in the forms we issue (a job, an execution) or Harbor's alias of an execution,
 * checked before it reaches Temporal or the file system.
 */
export const JobIdParamsSchema = z.object({
  id: z
    .string()
    .regex(ANY_JOB_ID_PATTERN, 'is not 24 lowercase hex characters (or an execution id, <id>@<epoch>)')
    .openapi({ param: { name: 'id', in: 'path' } }),
});
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

export const JobFileParamsSchema = JobIdParamsSchema.extend({
  name: z
    .string()
    .regex(FILE_NAME, 'must be 1–128 of A-Z a-z 0-9 . _ - (no path)')
    .openapi({ param: { name: 'name', in: 'path' } }),
});
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

export const QueueParamsSchema = z.object({
  job_type: z
    .string()
    .regex(JOB_NAME_PATTERN, 'must be an upper snake case job name, or all')
    .or(z.literal('all'))
    .openapi({ param: { name: 'job_type', in: 'path' } }),
});

export const QueueActionRequestSchema = z
  .object({
    /** pause: submitted jobs stay Pending, none starts; resume: they start again; stop: every pending and running job of the type is stopped. */
    action: z.enum(QUEUE_ACTIONS),
  })
  .strict()
  .openapi('QueueAction');

/** One status hook event of a job and its delivery attempts. */
export const HookRecordSchema = z.object({
  /** The `X-Jobservice-Event-Id` header: the same on every attempt. */
  id: z.string(),
  status: z.string(),
  check_in: z.string().optional(),
  attempts: z.array(z.object({ at: z.number().int(), http_status: z.number().int().optional(), error: z.string().optional() })),
  /** replaced: a newer check-in went out instead. */
  outcome: z.enum(['delivered', 'pending', 'given_up', 'replaced']),
});
export const HookLogSchema = z
  .object({ job_id: z.string(), status_hook: z.string().nullable(), events: z.array(HookRecordSchema) })
  .openapi('HookLog');
export type HookLog = z.infer<typeof HookLogSchema>;
// The workflows build records from a plain interface (no zod in the bundle); keep the two in step.
const hookRecordMatches: Same<z.infer<typeof HookRecordSchema>, HookRecord> = true;
void hookRecordMatches;

export const JobLogQuerySchema = z
  .object({
    /** 1 or true: stream the log as it grows (chunked text) until the job ends. */
    follow: z
      .enum(['1', 'true', '0', 'false'])
      .transform((v) => v === '1' || v === 'true')
      .optional(),
  })
  .strict();
