import { createExecuteJob, type ActivityDeps } from './execute-job.js';
import { createDeliverHook } from './deliver-hook.js';
import { createHookAllowList } from '../hooks/hook-allow-list.js';
import { enterQueue } from '../queues/queue-client.js';
import { checkScheduleHealth } from './check-schedule-health.js';
import { pruneBatchExecutions } from './prune-batch-executions.js';
import { pruneExecutions } from './prune-executions.js';
import type { EnterQueueInput, JobActivities } from './types.js';

export type { ActivityDeps } from './execute-job.js';
export type * from './types.js';

function withCurrentLimit(deps: ActivityDeps, input: EnterQueueInput): EnterQueueInput {
  if (input.limit !== undefined || !deps.registry.get(input.jobType)) return input;
  const limit = deps.registry.concurrencyLimit(input.jobType);
  return limit === undefined ? input : { ...input, limit };
}

export function createActivities(deps: ActivityDeps): JobActivities {
  return {
    executeJob: createExecuteJob(deps),
    pruneExecutions: (input) => pruneExecutions(deps, input),
    pruneBatchExecutions: (input) => pruneBatchExecutions(deps, input),
    // A run started without a limit (a schedule or a retry from before its type had one) gets in
    // line under this worker's configuration of the type, so it never lifts the queue's limit.
    enterQueue: (input) => enterQueue(deps.client, withCurrentLimit(deps, input)),
    checkScheduleHealth: (input) => checkScheduleHealth(deps, input),
    deliverHook: createDeliverHook({
      ...(deps.hookSecret ? { secret: deps.hookSecret } : {}),
      allowList: createHookAllowList(deps.hookAllowedHosts ?? []),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    }),
  };
}
