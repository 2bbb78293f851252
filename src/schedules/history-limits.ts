import { executionAlias } from '../shared/job-id.js';

/** The largest history limit a periodic job may ask for; the pruner reads enough executions to keep two of them. */
export const MAX_HISTORY_LIMIT = 500;

/** Kubernetes' `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` for a periodic job's executions. */
export interface HistoryLimits {
  successful?: number;
  failed?: number;
}

/**
 * The limits the pruner applies: with `pause_after_failures`, at least that many failed
 * executions stay, so the streak it counts (in visibility) can reach it. A smaller
 * `failed_jobs_history_limit` would otherwise delete the streak as it grows, and never pause.
 */
export function limitsKeepingStreak(limits: HistoryLimits, pauseAfterFailures: number | undefined): HistoryLimits {
  if (pauseAfterFailures === undefined || limits.failed === undefined || limits.failed >= pauseAfterFailures) return limits;
  return { ...limits, failed: pauseAfterFailures };
}

/** An execution as the pruner sees it; `Success` counts against the successful limit, every other end against the failed one. */
export interface FinishedExecution {
  id: string;
  /** When it began as an execution (epoch ms): see executionBeganAt. */
  startedAt: number;
  succeeded: boolean;
}

/**
 * When an execution began, for ranking it among its job's: a periodic fire's nominal time (its id
 * ends with it), else `fallbackMs` (a submitted job's enqueue time). Not its run's start: a fire
 * that continued as new, or was retried, is no newer than the fires after it (Kubernetes ranks a
 * CronJob's Jobs by when they were made).
 */
export function executionBeganAt(id: string, fallbackMs: number): number {
  const alias = executionAlias(id);
  return alias ? Number(alias.slice(alias.lastIndexOf('@') + 1)) * 1000 : fallbackMs;
}

/**
 * A submitted job's place in submit order (epoch ms): its enqueue second (Harbor's seconds), then
 * within it when its run started; a later run (a retry, a continue-as-new) counts as the second's end.
 */
export function submitOrderMs(enqueueTimeSec: number, runStartedMs: number): number {
  return enqueueTimeSec * 1000 + Math.min(999, Math.max(0, runStartedMs - enqueueTimeSec * 1000));
}

const newestFirst = (a: FinishedExecution, b: FinishedExecution) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1);

/**
 * What a periodic batch job's report history may not delete: the executions its history limits
 * keep, and with `pause_after_failures` that many failures, which the streak counts in visibility.
 * A report history (3 by default) would otherwise override both. Undefined: nothing is spared.
 */
export function limitsSparedByReportHistory(
  limits: HistoryLimits | undefined,
  pauseAfterFailures: number | undefined,
): HistoryLimits | undefined {
  const spared: HistoryLimits = {};
  if (limits?.successful !== undefined) spared.successful = limits.successful;
  const failed = Math.max(limits?.failed ?? 0, pauseAfterFailures ?? 0);
  if (failed > 0) spared.failed = failed;
  return Object.keys(spared).length > 0 ? spared : undefined;
}

/**
 * The executions a batch job's report history deletes: beyond the newest `keep` by when they
 * began, `self` counted in its place (it cannot delete itself), but those `spared` keeps (newest
 * first within each kind, as selectPrunable keeps them).
 */
export function selectBatchPrunable(
  closed: readonly FinishedExecution[],
  self: FinishedExecution,
  keep: number,
  spared: HistoryLimits | undefined,
): string[] {
  const all = [...closed.filter((e) => e.id !== self.id), self].sort(newestFirst);
  const kept = new Set(all.slice(0, keep).map((e) => e.id));
  for (const succeeded of [true, false]) {
    const limit = succeeded ? spared?.successful : spared?.failed;
    if (limit === undefined) continue;
    for (const e of all.filter((x) => x.succeeded === succeeded).slice(0, limit)) kept.add(e.id);
  }
  return all.filter((e) => e.id !== self.id && !kept.has(e.id)).map((e) => e.id);
}

/**
 * The executions to delete: beyond each limit, oldest first by when they began, as Kubernetes keeps a
 * CronJob's newest jobs. `self` is the execution ending now (it cannot be seen closed yet) and
 * counts in its place: with overlapping runs it need not be the newest, and a newer
 * one that closed first must not go for it. A missing limit keeps everything of that kind.
 */
export function selectPrunable(closed: readonly FinishedExecution[], self: FinishedExecution, limits: HistoryLimits): string[] {
  const all = [...closed.filter((e) => e.id !== self.id), self].sort(newestFirst);
  const prunable: string[] = [];
  for (const succeeded of [true, false]) {
    const limit = succeeded ? limits.successful : limits.failed;
    if (limit === undefined) continue;
    prunable.push(
      ...all
        .filter((e) => e.succeeded === succeeded)
        .slice(limit)
        // A workflow cannot delete itself while it runs: beyond its limit, `self` goes at the next
        // execution's end (with a limit of 0, pruneExecutions deletes it once it has closed).
        .filter((e) => e.id !== self.id)
        .map((e) => e.id),
    );
  }
  return prunable;
}

/** Whether the execution ending now (`self`, see selectPrunable) is itself beyond its kind's limit. */
export function selfBeyondLimit(closed: readonly FinishedExecution[], self: FinishedExecution, limits: HistoryLimits): boolean {
  const limit = self.succeeded ? limits.successful : limits.failed;
  if (limit === undefined) return false;
  const kind = [...closed.filter((e) => e.id !== self.id && e.succeeded === self.succeeded), self].sort(newestFirst);
  return kind.indexOf(self) >= limit;
}
