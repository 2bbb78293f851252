import { CancellationScope, condition, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { housekeepingQueue } from '../shared/task-queues.js';
import type { JobActivities } from '../activities/types.js';
import { hookRetryDelayMs, type HookEvent, type HookTimings } from '../shared/hook-event.js';
import type { JobInput } from '../shared/job-model.js';
import { TIMING_DEFAULTS } from '../shared/start-input.js';
import { hookView } from '../views/hook-view.js';

/** One event waiting to go out, with its delivery so far. */
export interface PendingHook {
  /** Sent as `X-Jobservice-Event-Id`, the same on every attempt (absent in events recorded before ids). */
  id?: string;
  event: HookEvent;
  attempts: number;
  /** Workflow time (ms) of the first attempt. */
  firstAttemptAt?: number;
  lastError?: string;
  /** A refused check-in waiting while the event behind it is tried: it is owed until that one is through. */
  parked?: boolean;
}

/** What a job's or a HookDelivery's stats say about its hooks. */
export interface HookProgress {
  delivered: number;
  pending: number;
  given_up: number;
  last_error?: string;
  /** Event ids issued so far in this revision: the next id's number. */
  issued?: number;
}

/** One event as `GET /jobs/{id}/hooks` shows it: each attempt, and how it ended. */
export interface HookRecord {
  id: string;
  status: string;
  check_in?: string;
  attempts: { at: number; http_status?: number; error?: string }[];
  outcome: 'delivered' | 'pending' | 'given_up' | 'replaced';
}

/** Events a workflow keeps in its hook log, newest; older ones are dropped (their counts stay in the progress). */
const LOGGED_EVENTS = 100;
/** Attempts kept per event; later ones replace the last. */
const LOGGED_ATTEMPTS = 20;
const CHECK_INS_OWED_UNTIL_FOLLOWED_THROUGH = 'check-ins-owed-until-followed-through';
/** A check-in in flight behind a parked one is not replaced by a newer one (patch id). */
const IN_FLIGHT_CHECK_IN_KEPT = 'in-flight-check-in-kept';

/**
 * A job's hook events, delivered one at a time and in order by `run()`, inside the workflow.
 * Check-ins coalesce: a newer one replaces an older one not yet being sent; status changes never do.
 */
export class HookOutbox {
  readonly pending: PendingHook[];
  private readonly counts: Omit<HookProgress, 'pending'>;
  private sending = false;
  private inFlightItem: PendingHook | undefined;
  /** The attempt in flight, so a hand-over need not wait for a receiver that does not answer. */
  private inFlight: CancellationScope | undefined;
  private paused = false;
  private looping = false;
  private readonly deliverHook: JobActivities['deliverHook'];
  /**
   * A hand-over's: the job's run that handed the events over. Its retried event is dropped once another
   * run of the job has a newer revision (an API retry's); one run's own revisions stay in order.
   */
  handedOverBy: string | undefined;

  /** Recent events and their attempts, for `GET /jobs/{id}/hooks` through view() (a query; nothing is stored elsewhere). */
  readonly log: HookRecord[] = [];
  private issued: number;

  /** A job's outbox, with what a continued run's input carries over (its events, progress and log). */
  static forJob(input: JobInput, url: string, timings: HookTimings, revision: number): HookOutbox {
    const hooks = input.resume?.hooks;
    const outbox = new HookOutbox(
      url,
      timings,
      hooks?.events as PendingHook[] | undefined,
      hooks?.progress as HookProgress | undefined,
      `${input.id}.${revision}`,
      input.timings.historyBudgetBytes ?? TIMING_DEFAULTS.historyBudgetBytes,
    );
    if (hooks?.log) outbox.restoreLog(hooks.log as HookRecord[]);
    return outbox;
  }

  constructor(
    readonly url: string,
    private readonly timings: HookTimings,
    carried: PendingHook[] = [],
    progress?: HookProgress,
    /** Event ids are `<prefix>.<n>`: the job id and revision make them unique across runs. */
    private readonly idPrefix = workflowInfo().workflowId,
    /**
     * A job's outbox: past this history size a failed event is not retried in the job's history
     * (each attempt writes the event again, large parameters and all, and Temporal ends a workflow
     * at 50 MB); it waits for the job's end, when HookDelivery takes it over.
     */
    private readonly retryBudgetBytes?: number,
  ) {
    // One HTTP attempt per activity: the outbox owns the retries so it can pause between them.
    this.deliverHook = proxyActivities<JobActivities>({
      taskQueue: housekeepingQueue(workflowInfo().taskQueue),
      startToCloseTimeout: timings.attemptTimeoutMs + 5000,
      heartbeatTimeout: '5s',
      retry: { maximumAttempts: 3, initialInterval: '1s' },
    }).deliverHook;
    this.pending = [...carried];
    const { pending: _carriedCount, issued, ...counts } = progress ?? { delivered: 0, pending: 0, given_up: 0 };
    this.counts = counts;
    this.issued = issued ?? 0;
  }

  get progress(): HookProgress {
    return { ...this.counts, pending: this.pending.length, issued: this.issued };
  }

  private nextId(): string {
    return `${this.idPrefix}.${++this.issued}`;
  }

  push(event: HookEvent): void {
    const last = this.pending[this.pending.length - 1];
    const sameKind = event.check_in !== undefined && last?.event.check_in !== undefined && last.event.status === event.status;
    let replaced = sameKind && !(this.sending && this.pending.length === 1) ? last : undefined;
    // The check-in in flight behind a parked one is as much sent as a lone one: the newest goes after it.
    if (replaced && replaced === this.inFlightItem && patched(IN_FLIGHT_CHECK_IN_KEPT)) replaced = undefined;
    if (replaced) {
      // A newer check-in is a new event: what was attempted under the old id stays in the log as replaced.
      const record = this.log.find((r) => r.id === replaced.id);
      if (record) record.outcome = 'replaced';
      replaced.event = event;
      replaced.id = this.nextId();
    } else {
      this.pending.push({ id: this.nextId(), event, attempts: 0 });
    }
  }

  /**
   * Gives up every event still owed, as the log and progress then say (an operator cancelled the
   * delivery). State only: no command, so a replay of the cancelled run reads the same.
   */
  giveUp(reason: string): void {
    for (const item of this.pending) this.record(item).outcome = 'given_up';
    this.counts.given_up += this.pending.length;
    this.counts.last_error = reason;
    this.pending.length = 0;
  }

  /** The log a fan-out job's earlier run handed over as it continued as new. */
  restoreLog(records: HookRecord[]): void {
    this.log.unshift(...records.slice(-LOGGED_EVENTS));
    if (this.log.length > LOGGED_EVENTS) this.log.splice(0, this.log.length - LOGGED_EVENTS);
  }

  private record(item: PendingHook): HookRecord {
    item.id ??= this.nextId();
    let record = this.log.find((r) => r.id === item.id);
    if (!record) {
      record = { id: item.id, status: item.event.status, attempts: [], outcome: 'pending' };
      if (item.event.check_in !== undefined) record.check_in = item.event.check_in;
      this.log.push(record);
      if (this.log.length > LOGGED_EVENTS) this.log.shift();
    }
    return record;
  }

  /**
   * The hook log as `GET /jobs/{id}/hooks` shows it: the events attempted (the last LOGGED_EVENTS),
   * then those still waiting their first attempt, in order, with no attempts yet.
   */
  view(): HookRecord[] {
    return hookView(this.log, this.pending);
  }

  private overBudget(): boolean {
    return this.retryBudgetBytes !== undefined && workflowInfo().historySize >= this.retryBudgetBytes;
  }

  get drained(): boolean {
    return this.pending.length === 0 && !this.sending;
  }

  /**
   * Stop after the attempt in flight, leaving the rest in `pending` (for a hand-off); with
   * `abandonInFlight`, without waiting for it: its event is handed on and sent again under its id.
   */
  async pause({ abandonInFlight = false } = {}): Promise<PendingHook[]> {
    this.paused = true;
    if (abandonInFlight) this.inFlight?.cancel();
    await condition(() => !this.sending);
    return this.pending;
  }

  /** Delivery goes on after a pause that led nowhere (a hand-over a stop overtook): `run()` again. */
  resume(): void {
    this.paused = false;
  }

  /**
   * Deliver until paused, or (with `untilDrained`) until nothing is left, or until `yieldWhen`
   * says so between events.
   */
  async run({
    untilDrained = false,
    yieldWhen = (): boolean => false,
  }: { untilDrained?: boolean; yieldWhen?: () => boolean } = {}): Promise<void> {
    // One loop at a time: a pause that found nothing in flight returns before the loop has seen it,
    // so after a resume (a hand-over a stop overtook) the loop may still be running, and a second
    // one beside it sent an event twice and lost the next.
    if (this.looping) return;
    this.looping = true;
    try {
      await this.deliver(untilDrained, yieldWhen);
    } finally {
      this.looping = false;
    }
  }

  private async deliver(untilDrained: boolean, yieldWhen: () => boolean): Promise<void> {
    for (;;) {
      if ((untilDrained && this.pending.length === 0) || yieldWhen()) return;
      await condition(() => this.paused || this.pending.length > 0);
      if (this.paused || (untilDrained && this.pending.length === 0)) return;
      const head = this.pending[0]!;
      const item = head.parked && this.pending[1] ? this.pending[1] : head;
      item.firstAttemptAt ??= Date.now();
      item.attempts += 1;
      const record = this.record(item);
      const attempt: HookRecord['attempts'][number] = { at: Math.floor(Date.now() / 1000) };
      this.sending = true;
      this.inFlightItem = item;
      let error: string | undefined;
      let outdated = false;
      const scope = new CancellationScope();
      this.inFlight = scope;
      try {
        const result = await scope.run(() =>
          this.deliverHook({
            url: this.url,
            event: item.event,
            eventId: record.id,
            timeoutMs: this.timings.attemptTimeoutMs,
            ...(this.handedOverBy !== undefined && item.attempts > 1 ? { outdatedUnlessRun: this.handedOverBy } : {}),
          }),
        );
        error = result.ok ? undefined : result.error;
        outdated = result.outdated !== undefined;
        if (result.httpStatus !== undefined) attempt.http_status = result.httpStatus;
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      } finally {
        this.sending = false;
        this.inFlightItem = undefined;
        this.inFlight = undefined;
      }
      if (error !== undefined) attempt.error = error;
      if (record.attempts.length >= LOGGED_ATTEMPTS) record.attempts.pop();
      record.attempts.push(attempt);
      if (outdated) {
        // Another run of the job (an API retry's) has a newer revision: Harbor abandons an outdated event.
        this.pending.splice(this.pending.indexOf(item), 1);
        record.outcome = 'replaced';
        continue;
      }
      if (error === undefined) {
        this.pending.splice(this.pending.indexOf(item), 1);
        this.counts.delivered += 1;
        record.outcome = 'delivered';
        // A later event is through: the refused check-in before it is dropped, as Harbor drops it.
        if (item !== head) {
          this.pending.splice(this.pending.indexOf(head), 1);
          this.record(head).outcome = 'replaced';
        }
      } else {
        item.lastError = error;
        this.counts.last_error = error;
        if (item !== head) {
          // The event behind a refused check-in is refused too: both are owed, the check-in first.
          head.parked = false;
          await condition(() => this.paused, hookRetryDelayMs(this.timings, head.attempts));
          continue;
        }
        // A check-in the receiver refuses gives way to whatever follows it, as Harbor drops a failed
        // check-in once a later event is through: Harbor core runs a SCHEDULER callback on each
        // check-in and refuses it while the callback fails (a disabled replication policy: 412), and
        // the execution's final status behind it would wait a day, its task Running, core's
        // unschedule refused.
        const givesWay = item.event.check_in !== undefined && patched('failed-check-ins-give-way');
        const followed = () => givesWay && this.pending.length > 1;
        if (Date.now() - item.firstAttemptAt >= this.timings.retryHorizonMs) {
          this.pending.shift();
          this.counts.given_up += 1;
          record.outcome = 'given_up';
          continue;
        }
        if (!followed()) {
          if (this.overBudget() && patched('hook-retries-wait-over-budget')) {
            this.counts.last_error = `${error} (retried once the job has ended: its history has reached its budget)`;
            await condition(() => this.paused || followed());
          } else {
            await condition(() => this.paused || followed(), hookRetryDelayMs(this.timings, item.attempts));
          }
        }
        if (followed() && this.pending[0] === item) {
          // It gives way to the event behind it, and goes only once that one is through (replay of
          // runs before: at once, lost when the receiver was merely down).
          if (patched(CHECK_INS_OWED_UNTIL_FOLLOWED_THROUGH)) {
            item.parked = true;
          } else {
            this.pending.shift();
            record.outcome = 'replaced';
          }
        }
      }
    }
  }
}
