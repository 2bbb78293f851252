import { Worker } from 'bullmq';

/** A BullMQ worker doing no work, at the same concurrency as the job worker. */
const worker = new Worker(process.env.BULLMQ_QUEUE!, async () => undefined, {
  connection: { host: '127.0.0.1', port: Number(process.env.REDIS_PORT) },
  concurrency: Number(process.env.BULLMQ_CONCURRENCY ?? 10),
});
process.once('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
