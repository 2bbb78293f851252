import type { HookRecord, PendingHook } from '../workflows/hook-outbox.js';

/**
 * What `GET /jobs/{id}/hooks` shows of an outbox: its log, then the events it still owes that
 * have an id and no record yet. The outbox's query answers with it, and so does the API for a
 * workflow that never ran a task (its start input is all there is to read).
 */
export function hookView(log: readonly HookRecord[], pending: readonly PendingHook[]): HookRecord[] {
  const logged = new Set(log.map((r) => r.id));
  const waiting = pending
    .filter((item): item is PendingHook & { id: string } => item.id !== undefined && !logged.has(item.id))
    .map((item): HookRecord => ({
      id: item.id,
      status: item.event.status,
      ...(item.event.check_in !== undefined ? { check_in: item.event.check_in } : {}),
      attempts: [],
      outcome: 'pending',
    }));
  return [...log, ...waiting];
}
