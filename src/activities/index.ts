import { createExecuteJob } from './execute-job.js';
import type { ActivityDeps } from './activity-deps.js';
import { createDeliverHook } from './deliver-hook.js';
import { createHookAllowList } from '../hooks/hook-allow-list.js';
import { enterQueue } from '../queues/queue-client.js';
import { checkScheduleHealth } from './check-schedule-health.js';
import { pruneBatchExecutions } from './prune-batch-executions.js';
import { pruneExecutions } from './prune-executions.js';
import { deleteSupersededRuns } from './delete-superseded-runs.js';
import { windUpReplacedTargets } from './wind-up-replaced-targets.js';
import { outwaitReplacedRun } from './outwait-replaced-run.js';
import { readClosedTarget } from './read-closed-target.js';
import type { EnterQueueInput, JobActivities } from './types.js';

export type { ActivityDeps } from './activity-deps.js';
export type * from './types.js';

function withCurrentLimit(deps: ActivityDeps, input: EnterQueueInput): EnterQueueInput {
  if (!deps.registry.get(input.jobType)) return input;
  const { limit: _asStarted, ...rest } = input;
  const limit = deps.registry.concurrencyLimit(input.jobType);
  return limit === undefined ? rest : { ...rest, limit };
}

export function createActivities(deps: ActivityDeps): JobActivities {
  return {
    executeJob: createExecuteJob(deps),
    pruneExecutions: (input) => pruneExecutions(deps, input),
    pruneBatchExecutions: (input) => pruneBatchExecutions(deps, input),
    // A run gets in line under this worker's configuration of its type, not the limit it was
    // started with: a schedule or retry from before a limit was added, raised or lifted obeys today's.
    enterQueue: (input) => enterQueue(deps.client, withCurrentLimit(deps, input), deps.gates),
    checkScheduleHealth: (input) => checkScheduleHealth(deps, input),
    deleteSupersededRuns: (input) => deleteSupersededRuns(deps.client, input),
    windUpReplacedTargets: (input) => windUpReplacedTargets(deps.client, input),
    outwaitReplacedRun: (input) => outwaitReplacedRun(deps.client, input),
    readClosedTarget: (input) => readClosedTarget(deps.client, input),
    deliverHook: createDeliverHook({
      ...(deps.hookSecret ? { secret: deps.hookSecret } : {}),
      allowList: createHookAllowList(deps.hookAllowedHosts ?? []),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
      ...(deps.sealer ? { sealer: deps.sealer } : {}),
      client: deps.client,
    }),
  };
}
