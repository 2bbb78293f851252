export { createActivities, type ActivityDeps } from './execute-job.js';
export type { ExecuteJobInput, ExecuteJobResult, JobActivities } from './types.js';
