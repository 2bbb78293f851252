import { demoJob } from './demo-job.js';
import { createJobRegistry, type JobRegistry } from './job-registry.js';

/** The jobs this build of jobservice knows. */
export function defaultJobRegistry(): JobRegistry {
  return createJobRegistry([demoJob]);
}
