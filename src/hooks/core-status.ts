import { JobStatus } from '../shared/job-model.js';
import type { HookEvent } from '../shared/hook-event.js';

/** Where Harbor core takes status hooks: `/service/notifications/tasks/{id}` (v2), `…/jobs/…` before. */
const CORE_HOOK_PATH = '/service/notifications/';

/**
 * The event as a hook receiver gets it. Harbor core knows six statuses (Pending, Scheduled,
 * Running, Stopped, Error, Success); any other has code -1 in its task table's ordering, so a
 * `Cancelled` job (the `cancel` action, a workflow cancel in the Web UI) would leave core's task
 * Running for ever, its execution unfinished and its schedule impossible to delete. Core's hook
 * paths get a cancel as `Stopped`, what Harbor's own jobservice has made of a cancel since v1.8;
 * every other receiver gets `Cancelled`, this service's status (and the REST API's).
 */
export function eventForReceiver(event: HookEvent, url: string): HookEvent {
  if (event.status !== JobStatus.Cancelled && event.metadata.status !== JobStatus.Cancelled) return event;
  if (!new URL(url).pathname.startsWith(CORE_HOOK_PATH)) return event;
  const status = (s: JobStatus) => (s === JobStatus.Cancelled ? JobStatus.Stopped : s);
  return { ...event, status: status(event.status), metadata: { ...event.metadata, status: status(event.metadata.status) } };
}
