import { postJob } from './http-post.js';
import { until } from './processes.js';

/** Submit one job through the REST API; its id. */
export async function submitJob(base: string, headers: Record<string, string>, job: Record<string, unknown>): Promise<string> {
  return postJob(`${base}/jobs`, headers, JSON.stringify({ job }));
}

/** Poll a job through the REST API until it ends; its final status. */
export async function finalStatus(base: string, headers: Record<string, string>, id: string, timeoutMs: number): Promise<string> {
  let status = '';
  await until(
    async () => {
      status = ((await (await fetch(`${base}/jobs/${id}`, { headers })).json()) as { job: { status: string } }).job.status;
      return ['Success', 'Error', 'Stopped', 'Cancelled'].includes(status);
    },
    timeoutMs,
    `job ${id} to end`,
    250,
  );
  return status;
}
