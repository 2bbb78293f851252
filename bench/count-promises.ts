/**
 * `npm run bench:promises` (JOB=DEMO for another type, STACKS=1 for where each is made): how many
 * promises a job's workflow makes per job. The SDK captures a stack trace (with source-map
 * lookups) for every promise a workflow makes, for its stack-trace query: about 50 µs each on this
 * machine, so the count is a cost. The worker runs in debug mode (workflows on this thread, where
 * a promise hook can see them); promises of the workflow realm are those whose constructor is not
 * this realm's Promise.
 */
import v8 from 'node:v8';
import { Worker } from '@temporalio/worker';
import { startDevServer } from '../src/temporal/dev-server.js';
import { freePort } from '../src/process/free-port.js';
import { locateTemporalCli } from '../src/temporal/locate-cli.js';

// Every worker the service creates runs its workflows on this thread.
const origCreate = Worker.create.bind(Worker);
(Worker as unknown as { create: typeof Worker.create }).create = (options) => origCreate({ ...options, debugMode: true });

let count = 0;
const stacks = new Map<string, number>();
const wantStacks = process.env.STACKS === '1';
v8.promiseHooks.createHook({
  init(promise: Promise<unknown>) {
    if (promise.constructor === Promise) return;
    count++;
    if (wantStacks) {
      const s = (new Error().stack ?? '')
        .split('\n')
        .slice(2, 9)
        .map((l) =>
          l
            .trim()
            .replace(/\(.*[/]/, '(')
            .replace(/:\d+\)/, ')'),
        )
        .join(' < ');
      stacks.set(s, (stacks.get(s) ?? 0) + 1);
    }
  },
});

async function main() {
  const port = await freePort();
  const server = await startDevServer({ cli: await locateTemporalCli({ log: (l) => console.error(l) }), ip: '127.0.0.1', port });
  process.env.TEMPORAL_ADDRESS = server.address;
  const { startInProcessService } = await import('./lib/in-process-service.js');
  const { JobRequestSchema } = await import('../src/api/contract.js');
  const { connection, client, worker, service } = await startInProcessService('count');
  const name = process.env.JOB ?? 'NOOP';
  const body = JSON.stringify({ job: { name, parameters: {}, metadata: { kind: 'Generic' } } });
  const one = async () => {
    const job = await service.submit(JobRequestSchema.parse(JSON.parse(body)).job);
    await client.workflow.getHandle(job.id).result();
  };
  for (let i = 0; i < 5; i++) await one();
  count = 0;
  stacks.clear();
  const n = 20;
  for (let i = 0; i < n; i++) await one();
  console.log(`${name}: ${count / n} workflow-realm promises per job`);
  if (wantStacks) for (const [s, c] of [...stacks].sort((a, b) => b[1] - a[1])) console.log(String(c / n).padStart(5), s);
  await worker.shutdown();
  await connection.close();
  await server.stop();
  process.exit(0);
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
