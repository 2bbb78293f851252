import type { OpCommand } from '../shared/job-model.js';

export interface ExecuteJobInput {
  id: string;
  name: string;
  parameters: Record<string, unknown>;
  revision: number;
  upstreamJobId?: string;
}

/** `done` when the job returned normally, otherwise the op command that ended it. */
export type ExecuteJobResult = { outcome: 'done' } | { outcome: OpCommand };

/** The activities a job workflow calls. Workflows import this type only, never the implementation. */
export interface JobActivities {
  executeJob(input: ExecuteJobInput): Promise<ExecuteJobResult>;
}
