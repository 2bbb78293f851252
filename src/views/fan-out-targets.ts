import type { Client } from '@temporalio/client';
import { executionNow } from '../temporal/execution-now.js';
import { getOwn, parseSummary, setOwn, type FanOutResult } from '../shared/fan-out.js';
import { toStats } from '../shared/job-model.js';
import { UpstreamJobIdKey } from '../shared/search-attributes.js';
import { jobView, reconcile } from './job-view.js';

export type TargetResult = FanOutResult & { startedAt: number };

/**
 * A fan-out job's targets, read from its children (their UpstreamJobId): per target the newest
 * child's job id, status and summary (its last check-in). No second store: /report and /metrics
 * show this, whatever the execution's size.
 */
export async function fanOutTargets(client: Client, executionId: string): Promise<Record<string, TargetResult>> {
  const targets: Record<string, TargetResult> = {};
  for (const run of await fanOutTargetRuns(client, executionId)) {
    if ((getOwn(targets, run.target)?.startedAt ?? -1) > run.startedAt) continue;
    const { target, ...result } = run;
    setOwn(targets, target, result);
  }
  return targets;
}

/**
 * Every child job of a fan-out job, a target's earlier runs too (a retry runs a failed target
 * again): a target's newest report may be an earlier run's when its last run failed before it
 * reported (/metrics' `latest` label).
 */
export async function fanOutTargetRuns(client: Client, executionId: string): Promise<(TargetResult & { target: string })[]> {
  const runs: (TargetResult & { target: string })[] = [];
  // Each child's memo carries its summary (a batch report up to MAX_SUMMARY_BYTES): pages stay a few MB.
  for await (const listed of client.workflow.list({ query: `${UpstreamJobIdKey.name} = '${executionId}'`, pageSize: 200 })) {
    // A target that has ended shows as ended as soon as its job does, though visibility may still
    // show it running. Only children shown running pay for a describe: about the job's pool size.
    const e = (await executionNow(client, listed)) ?? listed;
    const view = jobView(e.memo, e.workflowId, e.startTime);
    const target = view?.input.fanOutTarget;
    if (!view || target === undefined) continue;
    const status = reconcile(toStats(view.input, view.state), e.status.name).status;
    const summary = parseSummary(view.state.check_in);
    runs.push({ target, job_id: e.workflowId, status, startedAt: e.startTime.getTime(), ...(summary ? { summary } : {}) });
  }
  return runs;
}
