import { z } from '@hono/zod-openapi';
import { CronSpecError, parseCronSpec, splitCronZone } from '../../schedules/cron-spec.js';
import { MAX_HISTORY_LIMIT } from '../../schedules/history-limits.js';
import { JOB_KINDS, JobKind } from '../../shared/job-model.js';

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
 * the shape of a request comes from the schema, so from one place. Harbor's own fields that a kind
 * does not take (`schedule_delay` but for Scheduled, `cron_spec` but for Periodic, `unique` on a
 * Periodic job) are ignored, as Harbor ignores them: the seed README's example submits a Generic
 * job with all three. Only this service's CronJob options on another kind are refused.
 */
export function checkMetadataForKind(metadata: JobMetadata, ctx: z.RefinementCtx): void {
  const issue = (field: keyof JobMetadata, message: string) => ctx.addIssue({ code: 'custom', path: ['job', 'metadata', field], message });
  const { kind, schedule_delay: delay, cron_spec: cron } = metadata;
  if (kind !== JobKind.Periodic) {
    const misplaced = PERIODIC_OPTIONS.find((option) => metadata[option] !== undefined);
    if (misplaced) issue(misplaced, 'only Periodic jobs take this option');
    if (kind === JobKind.Scheduled && !delay) issue('schedule_delay', 'a Scheduled job needs a delay of at least 1 second');
    return;
  }
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
