import { randomUUID } from 'node:crypto';
import { isGrpcServiceError, ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { encodeUnifiedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes.js';
import { boundedRpc } from '../api/bounded-rpc.js';

/** What a write changes in a schedule: its state, and search attributes (the others it has are kept). */
export interface ScheduleChange {
  state?: { paused: boolean; note: string };
  searchAttributes?: SearchAttributePair[];
}

const GRPC_NOT_FOUND = 5;

/** Writes one change tries before it gives up on a schedule that keeps changing under it. */
const ATTEMPTS = 5;
/** How long a write waits for the schedule to take it (it does within milliseconds unless the server is struggling). */
const TAKES_MS = 5_000;

/**
 * Writes `change(description)` to schedule `id` until the schedule is as the change wants (it
 * returns undefined), and resolves with the last description read.
 *
 * `UpdateSchedule` replaces the whole schedule, so a write of what was read would undo whatever
 * landed between the read and the write: an operator's `temporal schedule update`, a stop racing a
 * pause (the SDK's `update()` sends no conflict token). Each write here carries the token of the
 * read it was computed from; the scheduler drops a stale one without an error, so after each write
 * this waits for the token to move and reads again, and the change is computed anew from what is
 * there: it may find nothing left to do, or refuse (throw). When the schedule takes no write within
 * TAKES_MS, it resolves with the description as it is (the write may still land).
 */
export async function changeSchedule(
  client: Client,
  id: string,
  change: (description: ScheduleDescription) => ScheduleChange | undefined,
): Promise<ScheduleDescription> {
  const handle = client.schedule.getHandle(id);
  let description = await boundedRpc(client, () => handle.describe());
  for (let attempt = 0; ; attempt++) {
    const wanted = change(description);
    if (!wanted) return description;
    if (attempt === ATTEMPTS) throw new ScheduleKeptChangingError(id);
    const { schedule, conflictToken } = description.raw;
    await writeUnderToken(
      client,
      id,
      description,
      { ...schedule, ...(wanted.state ? { state: { ...schedule?.state, paused: wanted.state.paused, notes: wanted.state.note } } : {}) },
      wanted.searchAttributes && merged(description, wanted.searchAttributes),
    );
    const deadline = Date.now() + TAKES_MS;
    do {
      await new Promise((resolve) => setTimeout(resolve, 20));
      description = await boundedRpc(client, () => handle.describe());
    } while (sameToken(description.raw.conflictToken, conflictToken) && Date.now() < deadline);
    if (sameToken(description.raw.conflictToken, conflictToken)) return description;
  }
}

/**
 * One `UpdateSchedule` of `schedule` (and, when given, all its search attributes) under the conflict
 * token of `read`: the scheduler drops it, without an error, when another write landed since. A
 * schedule deleted since is ScheduleNotFoundError, as the SDK's own schedule calls say it.
 */
export async function writeUnderToken(
  client: Client,
  id: string,
  read: ScheduleDescription,
  schedule: NonNullable<ScheduleDescription['raw']['schedule']>,
  searchAttributes?: SearchAttributePair[],
): Promise<void> {
  await boundedRpc(client, () =>
    client.workflowService.updateSchedule({
      namespace: client.options.namespace,
      scheduleId: id,
      schedule,
      ...(searchAttributes ? { searchAttributes: { indexedFields: encodeUnifiedSearchAttributes(undefined, searchAttributes) } } : {}),
      conflictToken: read.raw.conflictToken,
      identity: client.options.identity,
      requestId: randomUUID(),
    }),
  ).catch((err: unknown) => {
    if (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND) throw new ScheduleNotFoundError(err.details, id);
    throw err;
  });
}

/** Other writes kept landing between a change's read and its write (the API answers 409). */
export class ScheduleKeptChangingError extends Error {
  constructor(readonly scheduleId: string) {
    super(`the schedule of periodic job ${scheduleId} kept changing under ${ATTEMPTS} writes; try again`);
    this.name = 'ScheduleKeptChangingError';
  }
}

function sameToken(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  return Buffer.from(a ?? []).equals(Buffer.from(b ?? []));
}

/** The schedule's search attributes with `pairs` set: the server replaces them all, so an operator's own go with the write. */
function merged(description: ScheduleDescription, pairs: SearchAttributePair[]): SearchAttributePair[] {
  const set = new Set(pairs.map((p) => p.key.name));
  return [...(description.typedSearchAttributes?.getAll() ?? []).filter((p) => !set.has(p.key.name)), ...pairs];
}
