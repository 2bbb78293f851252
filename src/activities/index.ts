import { createExecuteJob, type ActivityDeps } from './execute-job.js';
import { createDeliverHook } from './deliver-hook.js';
import { createHookAllowList } from '../hooks/hook-allow-list.js';
import { enterQueue } from '../queues/queue-client.js';
import { checkScheduleHealth } from './check-schedule-health.js';
import { pruneBatchExecutions } from './prune-batch-executions.js';
import { pruneExecutions } from './prune-executions.js';
import type { JobActivities } from './types.js';

export type { ActivityDeps } from './execute-job.js';
export type * from './types.js';

export function createActivities(deps: ActivityDeps): JobActivities {
  return {
    executeJob: createExecuteJob(deps),
    pruneExecutions: (input) => pruneExecutions(deps, input),
    pruneBatchExecutions: (input) => pruneBatchExecutions(deps, input),
    enterQueue: (input) => enterQueue(deps.client, input),
    checkScheduleHealth: (input) => checkScheduleHealth(deps, input),
    deliverHook: createDeliverHook({
      ...(deps.hookSecret ? { secret: deps.hookSecret } : {}),
      allowList: createHookAllowList(deps.hookAllowedHosts ?? []),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    }),
  };
}
