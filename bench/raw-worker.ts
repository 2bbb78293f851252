import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { installQuietRuntime } from '../src/temporal/install-runtime.js';

/** A plain Temporal worker with the same slot count as the job worker, for the raw scenario. */
async function main() {
  installQuietRuntime('ERROR');
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.RAW_TASK_QUEUE!,
    workflowsPath: fileURLToPath(new URL('./raw-workflow.ts', import.meta.url)),
    activities: { noop: async () => undefined },
    maxConcurrentActivityTaskExecutions: Number(process.env.RAW_WORKERS ?? 10),
  });
  process.once('SIGTERM', () => worker.shutdown());
  await worker.run();
  await connection.close();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
