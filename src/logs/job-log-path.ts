import { join } from 'node:path';
import { isJobId } from '../shared/job-id.js';

/**
 * Where the FILE backend keeps a job's log: `<base_dir>/<jobId>.log`. Only ids of the forms we
 * issue reach the file system, so no path can escape the directory; any other id has no log.
 */
export function jobLogPath(dir: string, jobId: string): string | undefined {
  return isJobId(jobId) ? join(dir, `${jobId}.log`) : undefined;
}
