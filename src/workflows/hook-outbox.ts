import { condition, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { housekeepingQueue } from '../shared/task-queues.js';
import type { JobActivities } from '../activities/types.js';
import { hookRetryDelayMs, type HookEvent, type HookTimings } from '../shared/hook-event.js';

/** One event waiting to go out, with its delivery so far. */
export interface PendingHook {
  event: HookEvent;
  attempts: number;
  /** Workflow time (ms) of the first attempt. */
  firstAttemptAt?: number;
  lastError?: string;
}

/** What a job's or a HookDelivery's stats say about its hooks. */
export interface HookProgress {
  delivered: number;
  pending: number;
  given_up: number;
  last_error?: string;
}

/**
 * A job's hook events, delivered one at a time and in order by `run()`, inside the workflow.
 * Check-ins coalesce: a newer one replaces an older one not yet being sent; status changes never do.
 */
export class HookOutbox {
  readonly pending: PendingHook[];
  private readonly counts: Omit<HookProgress, 'pending'>;
  private sending = false;
  private paused = false;
  private readonly deliverHook: JobActivities['deliverHook'];

  constructor(
    readonly url: string,
    private readonly timings: HookTimings,
    carried: PendingHook[] = [],
    progress?: HookProgress,
  ) {
    // One HTTP attempt per activity: the outbox owns the retries so it can pause between them.
    this.deliverHook = proxyActivities<JobActivities>({
      taskQueue: housekeepingQueue(workflowInfo().taskQueue),
      startToCloseTimeout: timings.attemptTimeoutMs + 5000,
      heartbeatTimeout: '5s',
      retry: { maximumAttempts: 3, initialInterval: '1s' },
    }).deliverHook;
    this.pending = [...carried];
    const { pending: _carriedCount, ...counts } = progress ?? { delivered: 0, pending: 0, given_up: 0 };
    this.counts = counts;
  }

  get progress(): HookProgress {
    return { ...this.counts, pending: this.pending.length };
  }

  push(event: HookEvent): void {
    const last = this.pending[this.pending.length - 1];
    const replaceable = last && last.event.check_in !== undefined && !(this.sending && this.pending.length === 1);
    if (event.check_in !== undefined && replaceable && last.event.status === event.status) {
      last.event = event;
    } else {
      this.pending.push({ event, attempts: 0 });
    }
  }

  get drained(): boolean {
    return this.pending.length === 0 && !this.sending;
  }

  /** Stop after the attempt in flight, leaving the rest in `pending` (for a hand-off). */
  async pause(): Promise<PendingHook[]> {
    this.paused = true;
    await condition(() => !this.sending);
    return this.pending;
  }

  /**
   * Deliver until paused, or (with `untilDrained`) until nothing is left, or until `yieldWhen`
   * says so between events.
   */
  async run({
    untilDrained = false,
    yieldWhen = (): boolean => false,
  }: { untilDrained?: boolean; yieldWhen?: () => boolean } = {}): Promise<void> {
    for (;;) {
      if ((untilDrained && this.pending.length === 0) || yieldWhen()) return;
      await condition(() => this.paused || this.pending.length > 0);
      if (this.paused || (untilDrained && this.pending.length === 0)) return;
      const item = this.pending[0]!;
      item.firstAttemptAt ??= Date.now();
      item.attempts += 1;
      this.sending = true;
      let error: string | undefined;
      try {
        const result = await this.deliverHook({ url: this.url, event: item.event, timeoutMs: this.timings.attemptTimeoutMs });
        error = result.ok ? undefined : result.error;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      } finally {
        this.sending = false;
      }
      if (error === undefined) {
        this.pending.shift();
        this.counts.delivered += 1;
      } else {
        item.lastError = error;
        this.counts.last_error = error;
        if (Date.now() - item.firstAttemptAt >= this.timings.retryHorizonMs) {
          this.pending.shift();
          this.counts.given_up += 1;
        } else {
          await condition(() => this.paused, hookRetryDelayMs(this.timings, item.attempts));
        }
      }
    }
  }
}
