import { Context } from '@temporalio/activity';
import type { DeliverHookInput, DeliverHookResult } from './types.js';

/** Longest body of a failed answer kept as the error (it shows in the job's hook progress). */
const MAX_ERROR_CHARS = 200;

/**
 * POST one event as JSON. Like Harbor's hook client: no auth header, success is a 2xx answer
 * (Harbor's core answers 200, and 404 while its task row is not committed, which is retried).
 */
export async function deliverHook(input: DeliverHookInput): Promise<DeliverHookResult> {
  // Heartbeats let Temporal notice a dead worker in seconds rather than at the attempt's timeout.
  const activity = Context.current();
  const heartbeat = setInterval(() => activity.heartbeat(), 1000);
  try {
    const response = await fetch(input.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(input.event),
      // A worker shutting down cancels the attempt rather than waiting out the receiver.
      signal: AbortSignal.any([AbortSignal.timeout(input.timeoutMs), activity.cancellationSignal]),
      redirect: 'manual',
    });
    const body = await response.text().catch(() => '');
    if (response.status >= 200 && response.status < 300) return { ok: true };
    const detail = body.trim().slice(0, MAX_ERROR_CHARS);
    return { ok: false, error: detail ? `HTTP ${response.status}: ${detail}` : `expected 2xx, got HTTP ${response.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return {
      ok: false,
      error: `${(err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message}${cause ? ` (${cause})` : ''}`,
    };
  } finally {
    clearInterval(heartbeat);
  }
}
