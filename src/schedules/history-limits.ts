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
  startedAt: number;
  succeeded: boolean;
}

/**
 * The executions to delete: beyond each limit, oldest first by start time, as Kubernetes keeps a
 * CronJob's newest jobs. `self` is the execution ending now (it cannot be seen closed yet) and
 * counts in its place by start time: with overlapping runs it need not be the newest, and a newer
 * one that closed first must not go for it. A missing limit keeps everything of that kind.
 */
export function selectPrunable(closed: readonly FinishedExecution[], self: FinishedExecution, limits: HistoryLimits): string[] {
  const all = [...closed.filter((e) => e.id !== self.id), self].sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1));
  const prunable: string[] = [];
  for (const succeeded of [true, false]) {
    const limit = succeeded ? limits.successful : limits.failed;
    if (limit === undefined) continue;
    prunable.push(
      ...all
        .filter((e) => e.succeeded === succeeded)
        .slice(limit)
        // A workflow cannot delete itself while it runs: beyond its limit, `self` goes at the next
        // execution's end (with a limit of 0, the newest finished execution stays until then).
        .filter((e) => e.id !== self.id)
        .map((e) => e.id),
    );
  }
  return prunable;
}
