import { CancellationScope, condition, getExternalWorkflowHandle, patched, sleep, workflowInfo } from '@temporalio/workflow';
import type { JobInput, JobResume } from '../shared/job-model.js';
import { TIMING_DEFAULTS } from '../shared/start-input.js';
import { queueWorkflowId } from '../shared/job-queue.js';
import { releaseSlotSignal } from './queue-messages.js';
import type { RunActivities } from './run-activities.js';

const TICKET_OF_ITS_RUN = 'queue-ticket-of-its-run';
const RESET_RUN_OUTWAITS_REPLACED = 'reset-run-outwaits-replaced';
const RESET_RUN_DROPS_REPLACED_PLACE = 'reset-run-drops-replaced-place';

/** A run's place at its type's queue (the JobQueue workflow), while it waits for or holds a slot. */
export class RunSlot {
  private slot: { ticket: string; granted: boolean; grantedAtMs?: number; handedOver?: true } | undefined;
  private tickets = 0;

  constructor(
    private readonly input: JobInput,
    private readonly activities: Pick<RunActivities, 'queueing' | 'queueingToTheEnd'>,
    /** The slot a fan-out's previous run kept for this one (JobRun.keptSlot). */
    kept?: JobResume['queueSlot'],
  ) {
    // A fan-out's next run goes on in the slot its predecessor held (continueFanOutAsNew); its own
    // tickets count on from that one's, so a late answer to the old ticket is never taken for a new one.
    if (kept) {
      this.slot = {
        ticket: kept.ticket,
        granted: true,
        handedOver: true,
        ...(kept.grantedAtMs !== undefined ? { grantedAtMs: kept.grantedAtMs } : {}),
      };
      // `<revision>.<count>`, or `<revision>.<count>.<suffix>` since TICKET_OF_ITS_RUN.
      this.tickets = Number(kept.ticket.split('.')[1]) || 0;
    }
  }

  /** Whether the run has a place (in line or granted) to give back. */
  get held(): boolean {
    return this.slot !== undefined;
  }

  /** Whether the run holds a granted slot (the one a hand-over kept, before the run has used it). */
  get hasGrant(): boolean {
    return this.slot?.granted === true;
  }

  /** Whether the slot held is the one the run that handed over kept for it. */
  get handedOver(): boolean {
    return this.slot?.handedOver === true;
  }

  /** The granted slot, for the next run of a hand-over. */
  keptFor(placeMs: number): NonNullable<JobResume['queueSlot']> | undefined {
    const { slot } = this;
    if (!slot?.granted) return undefined;
    return { ticket: slot.ticket, placeMs, ...(slot.grantedAtMs !== undefined ? { grantedAtMs: slot.grantedAtMs } : {}) };
  }

  /** When the slot was granted (epoch ms), if it has been. */
  get grantedAtMs(): number | undefined {
    return this.slot?.grantedAtMs;
  }

  /** Gets in line for revision `revision`'s run, pending since `at`, and waits for the grant. */
  async waitFor(at: number, revision: number): Promise<void> {
    const { input } = this;
    const count = ++this.tickets;
    // A run an operator reset replays the same revision and count as the run it replaced, so a grant
    // meant for that run (landing after the reset) would be taken as its own. Workflow randomness is
    // reseeded at a reset point: a suffix drawn from it is the same on replay and differs between the two runs.
    const ticket = patched(TICKET_OF_ITS_RUN)
      ? `${revision}.${count}.${Math.floor(Math.random() * 36 ** 6).toString(36)}`
      : `${revision}.${count}`;
    this.slot = { ticket, granted: false };
    await this.outwaitReplacedRun(count);
    const toTheEnd = patched('enter-queue-to-the-end');
    const queueing = toTheEnd ? this.activities.queueingToTheEnd : this.activities.queueing;
    const enter = async () => {
      try {
        await queueing.enterQueue({
          taskQueue: workflowInfo().taskQueue,
          jobType: input.name,
          jobId: input.id,
          ticket,
          at,
          ...(input.concurrency !== undefined ? { limit: input.concurrency } : {}),
        });
      } finally {
        // A stop that outlasted the grace period gave the ticket back while it was still getting in
        // line: now that its place has landed (or never will), give it back again.
        if (toTheEnd && this.slot?.ticket !== ticket) await this.releaseTicket(ticket);
      }
    };
    await enter();
    const granted = () => this.slot?.granted === true;
    if (!patched('waiting-runs-ask-again')) {
      await condition(granted);
      return;
    }
    // The queue's workflow may have closed while the run waits (an operator terminated it): the run
    // asks again now and then, with the same ticket and place, so a fresh queue takes it in line.
    // In a live queue the ask finds the run where it is. Rarely, so a run waiting for days stays
    // far below Temporal's history limit.
    const askAgainMs = input.timings.queueAskAgainMs ?? TIMING_DEFAULTS.queueAskAgainMs;
    while (!(await condition(granted, askAgainMs))) {
      // Its place given back meanwhile (a stop): not asked for again; the run waits as it did.
      if (this.slot?.ticket !== ticket) {
        await condition(granted);
        return;
      }
      await enter();
    }
  }

  /**
   * An operator's reset ends the run that held the slot, but not its activity: that learns of it at
   * its next heartbeat and then has the stop grace (a short job, its cap). A new ticket from the job
   * replaces its slot at the queue, so the reset run gets in line only once the replaced run has
   * wound down, or a run waiting behind it would start beside the one still working.
   */
  private async outwaitReplacedRun(count: number): Promise<void> {
    const { input } = this;
    const info = workflowInfo();
    if (count !== 1 || input.concurrency === undefined || info.runId === info.originalExecutionRunId) return;
    if (!patched(RESET_RUN_OUTWAITS_REPLACED)) return;
    // A replaced run still waiting in line never ran: its place goes at once, or the queue would
    // grant it a slot that no run takes (this one ignores a ticket not its own) until this one gets
    // in line. A slot the replaced run holds stays held until then.
    if (patched(RESET_RUN_DROPS_REPLACED_PLACE)) await this.releaseTicket('', { anyWaiting: true });
    await sleep(input.shortCapMs ?? input.timings.heartbeatTimeoutMs + input.timings.stopGraceMs);
  }

  /** The queue's answer: only the run's current ticket counts. */
  granted(ticket: string): void {
    if (this.slot?.ticket === ticket && !this.slot.granted) {
      this.slot.granted = true;
      this.slot.grantedAtMs = Date.now();
    }
  }

  /** Gives back the slot (or the place in line); never cancelled with the run, so a stop frees it too. */
  async release(): Promise<void> {
    const slot = this.slot;
    if (!slot) return;
    this.slot = undefined;
    await this.releaseTicket(slot.ticket);
  }

  /** Releases are per ticket, so giving one back twice is harmless. */
  private async releaseTicket(ticket: string, { anyWaiting }: { anyWaiting?: true } = {}): Promise<void> {
    const queueId = queueWorkflowId(workflowInfo().taskQueue, this.input.name);
    await CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(queueId)
        .signal(releaseSlotSignal, { jobId: this.input.id, ticket, ...(anyWaiting ? { anyWaiting } : {}) })
        .catch(() => undefined),
    );
  }
}
