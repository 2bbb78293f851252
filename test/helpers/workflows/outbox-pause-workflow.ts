/**
 * What continueFanOutAsNew (src/workflows/fan-out.ts) does with a job's outbox when a stop has
 * overtaken its hand-over: `await outbox.pause()`, then `outbox.resume()` and `run.startHookDelivery()`
 * (a second `run()` loop), then `finishWithOp` pushes Stopped. Only the outbox is modelled here.
 */
import { CancellationScope, condition, sleep } from '@temporalio/workflow';
import { HookOutbox } from '../../../src/workflows/hook-outbox.js';
import type { HookEvent } from '../../../src/shared/hook-event.js';

const event = (status: string, checkIn?: string): HookEvent =>
  ({
    job_id: 'job',
    status,
    ...(checkIn !== undefined ? { check_in: checkIn } : {}),
    metadata: { id: 'job', status, revision: 1 },
  }) as unknown as HookEvent;

export async function OutboxPausedAtHandOver(url: string, state: 'idle' | 'waiting-to-retry'): Promise<string[]> {
  const outbox = new HookOutbox(url, {
    initialRetryMs: 1500,
    maxRetryMs: 1500,
    retryHorizonMs: 3_600_000,
    drainMs: 0,
    attemptTimeoutMs: 5000,
  });
  const start = () => void CancellationScope.nonCancellable(() => outbox.run());
  start();
  outbox.push(event('Running'));
  if (state === 'idle') {
    await condition(() => outbox.drained);
  } else {
    // The first attempt fails (the activity refuses it): the outbox waits out its backoff.
    await condition(() => outbox.progress.last_error !== undefined);
    // (its backoff: 1.5 s)
  }
  await sleep(100);
  // The hand-over: pause, a stop is found, delivery goes on (fan-out.ts continueFanOutAsNew).
  await outbox.pause();
  outbox.resume();
  start();
  // finishWithOp: Stopped, and a check-in the run carried back before it.
  outbox.push(event('Running', 'summary'));
  outbox.push(event('Stopped'));
  await condition(() => outbox.drained && outbox.pending.length === 0, 10_000);
  // Long enough for a second loop, if there were one, to send an event again.
  await sleep(1000);
  return [JSON.stringify(outbox.progress)];
}
