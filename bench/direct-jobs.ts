import { JobRequestSchema } from '../src/api/contract.js';
import { startInProcessService } from './lib/in-process-service.js';
import { pool } from './lib/processes.js';

/**
 * `npm start` without its HTTP server, for the raw scenario's split of the API's cost: the same
 * configuration (from the environment), worker and job service on one native connection, with
 * DIRECT_SUBMIT_N NOOP jobs submitted by calling the service as the submit route does, body
 * validation included, after DIRECT_WARMUP_N that are not measured. Between the raw local-activity
 * workflow and the API, this is the job.
 */
async function main() {
  const { connection, client, worker, service } = await startInProcessService('bench-direct');
  const body = JSON.stringify({ job: { name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } } });
  const callers = Number(process.env.DIRECT_CALLERS ?? 32);
  const warmup = Number(process.env.DIRECT_WARMUP_N ?? 0);
  if (warmup > 0) {
    const done: Promise<unknown>[] = [];
    await pool(warmup, callers, async () => {
      const job = await service.submit(JobRequestSchema.parse(JSON.parse(body)).job);
      done.push(client.workflow.getHandle(job.id).result());
    });
    await Promise.all(done);
  }
  // The CPU of its boot (bundling the workflows) and warm-up is not the variant's: the bench subtracts this.
  const { user, system } = process.cpuUsage();
  console.log(JSON.stringify({ boot_cpu_s: (user + system) / 1e6 }));
  const n = Number(process.env.DIRECT_SUBMIT_N);
  const ids: string[] = [];
  const latencies: number[] = [];
  await pool(n, callers, async () => {
    const started = performance.now();
    const job = await service.submit(JobRequestSchema.parse(JSON.parse(body)).job);
    latencies.push(performance.now() - started);
    ids.push(job.id);
  });
  // One line the bench reads: the job ids and submit latencies.
  console.log(JSON.stringify({ submitted: n, ids, latencies }));
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await worker.shutdown();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
