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
  // Each child's memo carries its summary (a batch report up to MAX_SUMMARY_BYTES): pages stay a few MB.
  for await (const listed of client.workflow.list({ query: `${UpstreamJobIdKey.name} = '${executionId}'`, pageSize: 200 })) {
    // A target that has ended shows as ended as soon as its job does, though visibility may still
    // show it running. Only children shown running pay for a describe: about the job's pool size.
    const e = (await executionNow(client, listed)) ?? listed;
    const view = jobView(e.memo, e.workflowId, e.startTime);
    const target = view?.input.fanOutTarget;
    if (!view || target === undefined) continue;
    const startedAt = e.startTime.getTime();
    if ((getOwn(targets, target)?.startedAt ?? -1) > startedAt) continue;
    const status = reconcile(toStats(view.input, view.state), e.status.name).status;
    const summary = parseSummary(view.state.check_in);
    setOwn(targets, target, { job_id: e.workflowId, status, startedAt, ...(summary ? { summary } : {}) });
  }
  return targets;
}
