import { demoJob } from './demo-job.js';
import { createJobRegistry, type JobRegistry } from './job-registry.js';
import { noopJob } from './noop-job.js';

/** The jobs this build of jobservice knows. */
export function defaultJobRegistry(): JobRegistry {
  return createJobRegistry([demoJob, noopJob]);
}
