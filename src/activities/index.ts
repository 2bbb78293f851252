import { createExecuteJob, type ActivityDeps } from './execute-job.js';
import { pruneExecutions } from './prune-executions.js';
import type { JobActivities } from './types.js';

export type { ActivityDeps } from './execute-job.js';
export type { ExecuteJobInput, ExecuteJobResult, JobActivities, PruneExecutionsInput } from './types.js';

export function createActivities(deps: ActivityDeps & { logDir?: string }): JobActivities {
  return {
    executeJob: createExecuteJob(deps),
    pruneExecutions: (input) => pruneExecutions(deps, input),
  };
}
