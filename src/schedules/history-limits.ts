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
 * The executions to delete: beyond each limit, oldest first. `self` is the execution that is
 * ending now; it is the newest and counts against its own limit (it cannot be seen closed yet).
 * A missing limit keeps everything of that kind.
 */
export function selectPrunable(closed: readonly FinishedExecution[], self: FinishedExecution, limits: HistoryLimits): string[] {
  const others = closed.filter((e) => e.id !== self.id).sort((a, b) => b.startedAt - a.startedAt || (a.id < b.id ? 1 : -1));
  const prunable: string[] = [];
  for (const succeeded of [true, false]) {
    const limit = succeeded ? limits.successful : limits.failed;
    if (limit === undefined) continue;
    const keepOthers = Math.max(0, limit - (self.succeeded === succeeded ? 1 : 0));
    prunable.push(
      ...others
        .filter((e) => e.succeeded === succeeded)
        .slice(keepOthers)
        .map((e) => e.id),
    );
  }
  // A workflow cannot delete itself while it runs: with a limit of 0 the newest finished
  // execution stays until the next one ends.
  return prunable;
}
