import type { Client } from '@temporalio/client';
import { queueWorkflowId } from '../../src/shared/job-queue.js';
import { queueStateQuery } from '../../src/workflows/queue-messages.js';
import { submitJob } from './api-jobs.js';
import { pool, until } from './processes.js';
import { round } from './stats.js';

/**
 * Harbor's scan-all flood and a stop of its type (Harbor #18044): N NOOP jobs held Pending by a
 * paused queue, then `PUT /queues/NOOP {"action":"stop"}`: how long the answer takes (one batch
 * operation, whatever N), how long until every job is Stopped, and how many ever started.
 */
export async function queueStopScenario(o: {
  client: Client;
  base: string;
  headers: Record<string, string>;
  taskQueue: string;
  n: number;
  callers: number;
}) {
  const act = async (action: string) => {
    const started = performance.now();
    const response = await fetch(`${o.base}/queues/NOOP`, { method: 'PUT', headers: o.headers, body: JSON.stringify({ action }) });
    if (response.status !== 200) throw new Error(`${action} answered ${response.status}: ${await response.text()}`);
    await response.body?.cancel();
    return performance.now() - started;
  };
  await act('pause');
  const first = Date.now();
  await pool(o.n, o.callers, async () => {
    await submitJob(o.base, o.headers, { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
  });
  const submitSeconds = (Date.now() - first) / 1000;
  const queue = o.client.workflow.getHandle(queueWorkflowId(o.taskQueue, 'NOOP'));
  await until(async () => (await queue.query(queueStateQuery)).waiting.length === o.n, 600_000, `${o.n} NOOP runs waiting`, 1000);
  const stopAsked = Date.now();
  const answerMs = await act('stop');
  const open = `WorkflowType = 'GenericJob' AND TaskQueue = '${o.taskQueue}' AND JobName = 'NOOP' AND ExecutionStatus = 'Running'`;
  await until(async () => (await o.client.workflow.count(open)).count === 0, 1_800_000, 'every NOOP job to end', 1000);
  const allStoppedSeconds = (Date.now() - stopAsked) / 1000;
  const ofStatus = async (status: string) =>
    (await o.client.workflow.count(`TaskQueue = '${o.taskQueue}' AND JobName = 'NOOP' AND JobStatus = '${status}'`)).count;
  const metrics = {
    n: o.n,
    submit_s: round(submitSeconds),
    stop_answer_ms: round(answerMs),
    all_stopped_s: round(allStoppedSeconds),
    stopped_per_s: round(o.n / allStoppedSeconds),
    stopped: await ofStatus('Stopped'),
    succeeded: await ofStatus('Success'),
  };
  await act('resume');
  return metrics;
}
