import {
  allHandlersFinished,
  CancellationScope,
  CancelledFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  makeContinueAsNewFunc,
  patched,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  fencedOut,
  MEMO_QUEUE,
  QUEUE_ACTIONS,
  QueueAction,
  type QueueEntry,
  type QueueGate,
  type QueueState,
} from '../shared/job-queue.js';
import { JobStatusKey } from '../shared/search-attributes.js';
import { nowSec } from '../shared/time.js';
import { stopSignal } from './job-messages.js';
import {
  acquireSlotSignal,
  queueControlUpdate,
  queueLimitSignal,
  queueStateQuery,
  releaseSlotSignal,
  slotGrantedSignal,
} from './queue-messages.js';

export interface JobQueueInput {
  jobType: string;
  /** Carried over when the queue continues as new. */
  state?: QueueState;
  /** Continue as new past this many events (default 5,000; tests go lower). */
  continueAfterEvents?: number;
  /** Signals per workflow task (default 200; tests go lower). */
  sendsPerTask?: number;
  /** How often holders are probed while runs wait for a full queue (default 5 minutes; tests go lower). */
  probeEveryMs?: number;
  /** When holders were last probed (epoch ms), carried over so a busy queue's new run does not start the wait again. */
  lastProbeMs?: number;
  /** Characters of input carried into the next run, its waiting line cut to fit (default 1,500,000; tests go lower). */
  carryChars?: number;
}

/** Signals sent per workflow task, so one task stays small whatever the backlog. */
const SENDS_PER_TASK = 200;
/**
 * With runs waiting and every slot taken, holders are checked this often: a terminated job frees
 * its slot at the second probe it fails, so its code, which may still run on a worker until a
 * heartbeat finds the workflow gone (heartbeat timeout and stop grace), has ended (queues before:
 * every 5 minutes, at the first).
 */
const PROBE_MS = 60_000;
const PROBE_MS_BEFORE = 5 * 60_000;
/** Marks the queues where a holder goes at the second failed probe, a minute apart (patch id). */
const TWO_PROBES_FREE_A_HOLDER = 'two-probes-free-a-holder';
const CONTINUE_AFTER_EVENTS = 5000;
/** Below the 2 MiB Temporal allows a continue-as-new's input (ids and tickets are ASCII: a character is a byte). */
const CARRY_CHARS = 1_500_000;

/**
 * A job type's queue: Temporal has no global semaphore, so one workflow per type is the place
 * where its limit is counted across every worker process and where a pause holds runs back.
 * Runs of the type that must wait (a limit, a pause) ask it for a slot and get one in the order
 * they became pending; a run of an unlimited type in an unpaused queue never talks to it.
 */
export async function JobQueue(input: JobQueueInput): Promise<void> {
  const q: QueueState = input.state ?? { jobType: input.jobType, paused: false, waiting: [], running: {} };
  // dirty: something to dispatch. gateChanged: the memo's gate is stale; every run writes its memo
  // first (every landed version did): its start event carries the gate only when this code
  // continued it as new.
  const flags: QueueFlags = { dirty: true, gateChanged: true };
  // Holders are probed on elapsed time (a busy queue gets signals all the time and older code never
  // probed it), and free slots left over once the signal budget is spent go in the next task.
  const mended = patched('queue-probe-on-elapsed-time');
  let lastProbeMs = input.lastProbeMs ?? Date.now();
  const twoProbes = patched(TWO_PROBES_FREE_A_HOLDER);
  const probeEvery = input.probeEveryMs ?? (twoProbes ? PROBE_MS : PROBE_MS_BEFORE);
  /** Holders a probe found gone, with the ticket they held: freed if the next probe finds them gone too. */
  const gone = twoProbes ? new Map<string, string>() : undefined;
  const budget = input.sendsPerTask ?? SENDS_PER_TASK;

  handleQueueMessages(q, flags);

  // An operator's cancel (the Web UI, `temporal workflow cancel`) must not end the queue: its slots
  // would go with it, and a fresh queue would grant them again while their runs still hold them.
  // The loop runs outside the cancellation, and a cancel continues the queue as new, state and all.
  const root = CancellationScope.current();
  await CancellationScope.nonCancellable(async () => {
    for (;;) {
      const full = q.limit !== undefined && Object.keys(q.running).length >= q.limit;
      const probeDue = full && q.waiting.length > 0;
      const wait = mended ? Math.max(1, lastProbeMs + probeEvery - Date.now()) : probeEvery;
      const woke = await condition(() => flags.dirty || root.consideredCancelled, probeDue ? wait : undefined);
      if (root.consideredCancelled) {
        // Queues before this ended Cancelled, their state lost: kept for their histories.
        if (!patched(QUEUE_OUTLIVES_CANCEL)) throw new CancelledFailure('the queue was cancelled');
        log.warn('the queue was asked to cancel; it goes on as a new run with its slots and line', { jobType: q.jobType });
        await continueWithState();
      }
      flags.dirty = false;
      if (flags.gateChanged) {
        publish(q);
        flags.gateChanged = false;
      }
      // Landed code probed on every wake without a timeout (`condition` then answers undefined): kept for its histories.
      if (mended ? probeDue && (!woke || Date.now() - lastProbeMs >= probeEvery) : !woke) {
        lastProbeMs = Date.now();
        await probeHolders(q, gone);
      }
      if (await dispatch(q, budget, mended)) flags.dirty = true;
      const info = workflowInfo();
      if (info.continueAsNewSuggested || info.historyLength > (input.continueAfterEvents ?? CONTINUE_AFTER_EVENTS)) {
        await continueWithState();
      }
    }
  });

  async function continueWithState(): Promise<never> {
    await condition(allHandlersFinished);
    // The new run carries the gate in its memo from its start event on, before its first task runs.
    const next: JobQueueInput = { ...input, state: { ...q, waiting: [] }, ...(mended ? { lastProbeMs } : {}) };
    // The slots held travel whole (their count is the limit); the line gets what room is left.
    const room = (input.carryChars ?? CARRY_CHARS) - JSON.stringify(next).length;
    next.state!.waiting = lineHead(q.waiting, room);
    return makeContinueAsNewFunc<typeof JobQueue>({ memo: { [MEMO_QUEUE]: gate(q) } })(next);
  }
}

/** Marks the runs where an operator's cancel continues the queue as new rather than ending it. */
const QUEUE_OUTLIVES_CANCEL = 'queue-outlives-cancel';

/**
 * The head of the line that fits in `budget` characters. Temporal refuses a continue-as-new input
 * over 2 MiB (about 23,000 waiting runs; the queue's workflow then fails every task and grants
 * nothing, or is ended); the runs left out ask again (`job.queue_ask_again_seconds`) and get back
 * in line at their place.
 */
function lineHead(waiting: QueueEntry[], budget: number): QueueEntry[] {
  let chars = 0;
  for (let i = 0; i < waiting.length; i++) {
    chars += JSON.stringify(waiting[i]).length + 1;
    if (chars > budget) {
      log.warn('queue line too long to carry whole; the runs left out get back in line when they ask again', {
        carried: i,
        waiting: waiting.length,
      });
      return waiting.slice(0, i);
    }
  }
  return waiting;
}

function gate(q: QueueState): QueueGate {
  const { waiting: _w, running: _r, ...rest } = q;
  return rest;
}

function publish(q: QueueState): void {
  upsertMemo({ [MEMO_QUEUE]: gate(q) });
  upsertSearchAttributes([{ key: JobStatusKey, value: q.paused ? 'Paused' : 'Active' }]);
}

/**
 * Runs fenced out by a stop are told to stop (they never start); then, unless paused, waiting runs
 * get free slots in order. Answers whether more is left than one task's worth of signals.
 */
async function dispatch(q: QueueState, budget: number, mended: boolean): Promise<boolean> {
  const sends: Promise<void>[] = [];
  const fenced = q.waiting.filter((e) => fencedOut(q, e.at)).slice(0, budget);
  for (const entry of fenced) {
    q.waiting.splice(q.waiting.indexOf(entry), 1);
    sends.push(
      getExternalWorkflowHandle(entry.jobId)
        .signal(stopSignal)
        .catch(() => undefined),
    );
  }
  const granted: string[] = [];
  const slotFree = () => q.limit === undefined || Object.keys(q.running).length < q.limit;
  while (!q.paused && q.waiting.length > 0 && sends.length < budget && slotFree()) {
    const entry = q.waiting.shift()!;
    q.running[entry.jobId] = { ticket: entry.ticket, since_ms: Date.now() };
    granted.push(entry.jobId);
    sends.push(
      getExternalWorkflowHandle(entry.jobId)
        .signal(slotGrantedSignal, { ticket: entry.ticket })
        // A job that is gone (terminated) frees the slot it was given.
        .catch(() => {
          if (q.running[entry.jobId]?.ticket === entry.ticket) delete q.running[entry.jobId];
        }),
    );
  }
  await Promise.all(sends);
  // Left for the next task: runs still fenced out, or waiting runs with a free slot (the budget ran
  // out, or a grant that failed freed the slot it took).
  if (!mended) {
    const more = q.waiting.some((e) => fencedOut(q, e.at)) || (!q.paused && q.waiting.length > 0 && granted.length === budget);
    return more || (granted.length > 0 && granted.some((id) => !q.running[id]));
  }
  return q.waiting.some((e) => fencedOut(q, e.at)) || (!q.paused && q.waiting.length > 0 && slotFree());
}

/**
 * A holder that no longer exists (terminated from outside) cannot release: its slot is taken back,
 * with `gone`, once two probes in a row have found it gone.
 */
async function probeHolders(q: QueueState, gone?: Map<string, string>): Promise<void> {
  await Promise.all(
    Object.entries(q.running).map(([jobId, held]) =>
      getExternalWorkflowHandle(jobId)
        .signal(slotGrantedSignal, { ticket: held.ticket })
        .then(
          () => gone?.delete(jobId),
          () => {
            if (q.running[jobId]?.ticket !== held.ticket) return;
            if (gone && gone.get(jobId) !== held.ticket) gone.set(jobId, held.ticket);
            else {
              delete q.running[jobId];
              gone?.delete(jobId);
            }
          },
        ),
    ),
  );
}

/** What the queue's messages change that its loop must act on. */
interface QueueFlags {
  dirty: boolean;
  gateChanged: boolean;
}

/** The queue's signals, query and update: registered before the workflow's first await, so none is missed. */
function handleQueueMessages(q: QueueState, flags: QueueFlags): void {
  setHandler(acquireSlotSignal, (request) => {
    const { limit, ...entry } = request;
    if (limit !== q.limit) {
      if (limit === undefined) delete q.limit;
      else q.limit = limit;
      flags.gateChanged = true;
    }
    // A job holds one place at a time: a new ticket replaces an older place or slot (a run that ended unseen).
    q.waiting = q.waiting.filter((e) => e.jobId !== entry.jobId);
    delete q.running[entry.jobId];
    const at = q.waiting.findIndex((e) => e.at > entry.at || (e.at === entry.at && e.jobId > entry.jobId));
    q.waiting.splice(at < 0 ? q.waiting.length : at, 0, entry);
    flags.dirty = true;
  });
  // A limit lifted or raised in configuration reaches the runs already waiting: without it they
  // would stay held to the old limit until a run of the type entered the queue again (a type
  // without a limit never does).
  setHandler(queueLimitSignal, ({ limit }) => {
    if (limit === q.limit) return;
    if (limit === undefined) delete q.limit;
    else q.limit = limit;
    flags.gateChanged = true;
    flags.dirty = true;
  });
  setHandler(releaseSlotSignal, ({ jobId, ticket, anyWaiting }) => {
    q.waiting = q.waiting.filter((e) => !(e.jobId === jobId && (anyWaiting || e.ticket === ticket)));
    if (q.running[jobId]?.ticket === ticket) delete q.running[jobId];
    flags.dirty = true;
  });
  setHandler(queueStateQuery, () => q);
  setHandler(
    queueControlUpdate,
    ({ action }) => {
      if (action === QueueAction.Pause && !q.paused) {
        q.paused = true;
        q.paused_at = nowSec();
      } else if (action === QueueAction.Resume) {
        q.paused = false;
        delete q.paused_at;
      } else if (action === QueueAction.Stop) {
        q.fence_ms = Date.now();
      }
      // The memo is written in this same workflow task, so a run's admission check sees it once the update has answered.
      publish(q);
      flags.gateChanged = false;
      flags.dirty = true;
      return { ...gate(q), waiting: q.waiting.length, running: Object.keys(q.running).length };
    },
    {
      validator: ({ action }) => {
        if (!QUEUE_ACTIONS.includes(action)) throw new Error(`action must be one of ${QUEUE_ACTIONS.join(', ')}`);
      },
    },
  );
}
