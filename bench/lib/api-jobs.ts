import { until } from './processes.js';

/** Submit one job through the REST API; its id. */
export async function submitJob(base: string, headers: Record<string, string>, job: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${base}/jobs`, { method: 'POST', headers, body: JSON.stringify({ job }) });
  if (response.status !== 202) throw new Error(`${String(job.name)} submit answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { job: { id: string } }).job.id;
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
