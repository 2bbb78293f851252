/**
 * The workflow bundle's entry: one exported function per workflow type. Generic and Scheduled
 * jobs run the same code under their own type names so the Web UI tells them apart.
 */
import { runJobWorkflow } from './job-workflow.js';
import type { JobInput, JobState } from '../shared/job-model.js';

export async function GenericJob(input: JobInput): Promise<JobState> {
  return runJobWorkflow(input);
}

export async function ScheduledJob(input: JobInput): Promise<JobState> {
  return runJobWorkflow(input);
}

export { HookDelivery } from './hook-delivery-workflow.js';
