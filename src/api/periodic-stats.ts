import type { ScheduleDescription, ScheduleSpecDescription, ScheduleSummary } from '@temporalio/client';
import { parseCronSpec } from '../schedules/cron-spec.js';
import { formatInZone } from '../schedules/format-in-zone.js';
import { liveCronSpec } from '../schedules/live-cron.js';
import { JobKind, JobStatus, refLink, type JobStats } from '../shared/job-model.js';
import { redactParameters, redactText } from '../shared/redact.js';
import { DEFAULT_CATCHUP_WINDOW_MS, isStopped, OVERLAP, type PeriodicOptions, type PeriodicRecord } from './periodic-record.js';
import { scheduleSpec } from './periodic-spec.js';

/** A listed periodic job: what a schedule summary says (counts and times come with GET /jobs/{id}). */
export function summaryStats(record: PeriodicRecord, summary: ScheduleSummary): JobStats {
  const stats = baseStats(record, isStopped(summary), summary.spec);
  stats.paused = summary.state.paused;
  // A list has the schedule's spec but not its policies: the zone and jitter as they are, the rest as submitted.
  const options: Record<string, unknown> = { ...record.options };
  if (summary.spec) withLiveSpec(options, record.options, summary.spec);
  stats.options = options;
  const zone = (options.timezone as string | undefined) ?? 'UTC';
  stats.next_run_times = summary.state.paused ? [] : summary.info.nextActionTimes.slice(0, 5).map((t) => formatInZone(t, zone));
  // A list row names no executions: which of them history limits pruned since, only GET reads.
  withExecutions(stats, summary.info.recentActions, new Set());
  return stats;
}

/** `existing`: which of the schedule's recent executions are still there (history limits prune them). */
export function toPeriodicStats(
  record: PeriodicRecord,
  description: ScheduleDescription,
  active: number,
  existing: ReadonlySet<string>,
  unseal: (parameters: Record<string, unknown>) => Record<string, unknown>,
): JobStats {
  const stats = baseStats(record, isStopped(description), description.spec);
  // The input its executions start with now: an operator may have replaced it (`temporal schedule
  // update --input`). A list has no schedule's input, so it shows the parameters as submitted.
  const input = description.action.type === 'startWorkflow' ? description.action.args?.[0] : undefined;
  const parameters = (input as { parameters?: unknown } | undefined)?.parameters;
  if (parameters !== null && typeof parameters === 'object' && !Array.isArray(parameters)) {
    // Unsealed first: a sealed value is the whole text that held a secret, the redacted one hides only the secret.
    stats.parameters = redactParameters(unsealedIfCan(unseal, parameters as Record<string, unknown>));
  }
  const options = liveOptions(record.options, description);
  stats.options = options;
  stats.update_time = Math.floor((description.info.lastUpdatedAt ?? description.info.createdAt).getTime() / 1000);
  stats.paused = description.state.paused;
  stats.next_run_times = description.state.paused
    ? []
    : description.info.nextActionTimes.slice(0, 5).map((t) => formatInZone(t, (options.timezone as string | undefined) ?? 'UTC'));
  stats.active = active;
  stats.missed = description.info.numActionsMissedCatchupWindow;
  stats.skipped = description.info.numActionsSkippedOverlap;
  withExecutions(stats, description.info.recentActions, existing);
  return stats;
}

/**
 * A schedule's recent actions (Temporal keeps the last 10), newest fire first. Temporal lists them
 * as it took them: an operator's backfill of a past fire comes after newer ones.
 */
export function newestFirst(recent: ScheduleDescription['info']['recentActions']): ScheduleDescription['info']['recentActions'] {
  return [...recent].sort((a, b) => b.scheduledAt.getTime() - a.scheduledAt.getTime());
}

/** The ids of a schedule's recent executions, newest first. */
export function recentExecutionIds(recent: ScheduleDescription['info']['recentActions']): string[] {
  return [...new Set(newestFirst(recent).flatMap((a) => (a.action?.workflow?.workflowId ? [a.action.workflow.workflowId] : [])))];
}

/**
 * The seed README's Job Execution fields: a periodic job has executions, and its stats name the
 * newest of them that are still there (`GET /jobs/{id}/executions` lists them all), with the time
 * of the last.
 */
function withExecutions(stats: JobStats, recent: ScheduleDescription['info']['recentActions'], existing: ReadonlySet<string>): void {
  stats.multiple_executions = true;
  const ids = recentExecutionIds(recent).filter((id) => existing.has(id));
  if (ids.length > 0) stats.executions = ids;
  const last = newestFirst(recent)[0];
  if (last) stats.last_schedule_time = Math.floor(last.scheduledAt.getTime() / 1000);
}

const K8S_OVERLAP: Partial<Record<string, NonNullable<PeriodicOptions['concurrency_policy']>>> = Object.fromEntries(
  Object.entries(OVERLAP).map(([k8s, temporal]) => [temporal, k8s]),
);

/**
 * The options as the schedule has them now: an operator's `temporal schedule update` (a new
 * overlap policy, catch-up window, zone or jitter) shows here, not the options as submitted. A
 * value the schedule holds as submitted (or as its default) shows as submitted; an overlap
 * policy Kubernetes has no name for shows as Temporal's (`overlap_policy`).
 */
export function liveOptions(submitted: PeriodicOptions, description: ScheduleDescription): Record<string, unknown> {
  const options: Record<string, unknown> = { ...submitted };
  const { overlap, catchupWindow } = description.policies;
  if (overlap !== OVERLAP[submitted.concurrency_policy ?? 'Allow']) {
    const named = overlap ? K8S_OVERLAP[overlap] : undefined;
    if (named) options.concurrency_policy = named;
    else {
      delete options.concurrency_policy;
      options.overlap_policy = overlap;
    }
  }
  const deadlineMs = submitted.starting_deadline_seconds ? submitted.starting_deadline_seconds * 1000 : DEFAULT_CATCHUP_WINDOW_MS;
  if (catchupWindow !== deadlineMs) options.starting_deadline_seconds = Math.round(catchupWindow / 1000);
  withLiveSpec(options, submitted, description.spec);
  return options;
}

/** The zone and jitter a schedule's spec has into `options`, where they differ from the submitted ones: none is UTC and no jitter. */
function withLiveSpec(options: Record<string, unknown>, submitted: PeriodicOptions, spec: { timezone?: string; jitter?: number }): void {
  const zone = spec.timezone || 'UTC';
  if (zone !== (submitted.timezone ?? 'UTC')) options.timezone = zone;
  const jitterMs = spec.jitter ?? 0;
  if (jitterMs !== (submitted.jitter_seconds ?? 0) * 1000) options.jitter_seconds = Math.round(jitterMs / 1000);
}

/** What every view of a periodic job shows: as submitted, and whether it is stopped. */
function baseStats(
  record: PeriodicRecord,
  stopped: boolean,
  spec: Pick<ScheduleSpecDescription, 'calendars' | 'intervals' | 'timezone'> | undefined,
): JobStats {
  const stats: JobStats = {
    id: record.id,
    status: stopped ? JobStatus.Stopped : JobStatus.Scheduled,
    name: record.name,
    kind: JobKind.Periodic,
    unique: false,
    ref_link: refLink(record.id),
    enqueue_time: record.enqueueTime,
    update_time: record.enqueueTime,
    // Records created before parameters were redacted on the way in still hold them raw.
    parameters: redactParameters(record.parameters),
    revision: record.enqueueTime,
    cron_spec: spec ? cronNow(record, spec) : record.cronSpec,
    options: { ...record.options },
  };
  // Records from before hook URLs were redacted on the way in hold them raw.
  if (record.statusHook) stats.web_hook_url = stats.hook_status = redactText(record.statusHook);
  return stats;
}

/** The cron_spec as the schedule's times are now (see liveCronSpec): an operator may have replaced them. */
function cronNow(record: PeriodicRecord, spec: Pick<ScheduleSpecDescription, 'calendars' | 'intervals' | 'timezone'>): string {
  let compiled = {};
  try {
    compiled = scheduleSpec(parseCronSpec(record.cronSpec), record.options);
  } catch {
    // A record the parser no longer takes: the schedule's times are all there is to show.
  }
  return liveCronSpec(record.cronSpec, compiled, spec);
}

function unsealedIfCan(
  unseal: (parameters: Record<string, unknown>) => Record<string, unknown>,
  parameters: Record<string, unknown>,
): Record<string, unknown> {
  try {
    return unseal(parameters);
  } catch {
    // Sealed under a key this process lacks: the sealed values are hidden whole.
    return parameters;
  }
}
