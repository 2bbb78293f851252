import { createHmac } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { HookAllowList } from '../hooks/hook-allow-list.js';
import { attemptDeadline } from '../process/attempt-deadline.js';
import type { JobMetrics } from '../metrics/job-metrics.js';
import type { DeliverHookInput, DeliverHookResult } from './types.js';

/** Longest body of a failed answer kept as the error (it shows in the job's hook progress). */
const MAX_ERROR_CHARS = 200;

export const EVENT_ID_HEADER = 'X-Jobservice-Event-Id';
export const SIGNATURE_HEADER = 'X-Jobservice-Signature';

export interface HookDeliveryDeps {
  /** `job.hook_secret`: kept in the worker, never in a workflow's input or history. */
  secret?: string;
  allowList: HookAllowList;
  metrics?: JobMetrics;
}

/** `sha256=<hex>` over the exact body sent, as GitHub signs its webhooks. */
export function hookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POST one event as JSON. Like Harbor's hook client, success is a 2xx answer (Harbor's core
 * answers 200, and 404 while its task row is not committed, which is retried). Each POST carries
 * the event's id, the same on every attempt, and with a secret configured an HMAC of the body.
 */
export function createDeliverHook(deps: HookDeliveryDeps) {
  return async function deliverHook(input: DeliverHookInput): Promise<DeliverHookResult> {
    const result = await attempt(input);
    deps.metrics?.recordHookDelivery(result.ok);
    return result;
  };

  async function attempt(input: DeliverHookInput): Promise<DeliverHookResult> {
    // Checked again at delivery: a name may resolve elsewhere now than at submit.
    const refused = await deps.allowList.refuse(input.url);
    if (refused) return { ok: false, error: refused };
    // Heartbeats let Temporal notice a dead worker in seconds rather than at the attempt's timeout.
    const activity = Context.current();
    const heartbeat = setInterval(() => activity.heartbeat(), 1000);
    const body = JSON.stringify(input.event);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (input.eventId) headers[EVENT_ID_HEADER] = input.eventId;
    if (deps.secret) headers[SIGNATURE_HEADER] = hookSignature(deps.secret, body);
    // The attempt's deadline, and a worker shutting down cancels it rather than waiting out the receiver.
    const deadline = attemptDeadline(input.timeoutMs, activity.cancellationSignal);
    try {
      const response = await fetch(input.url, { method: 'POST', headers, body, signal: deadline.signal, redirect: 'manual' });
      if (response.status >= 200 && response.status < 300) {
        // A 2xx is delivered; its body is not read (a receiver may send any amount of it).
        await response.body?.cancel().catch(() => undefined);
        return { ok: true, httpStatus: response.status };
      }
      const detail = (await readStart(response, MAX_ERROR_CHARS * 4)).trim().slice(0, MAX_ERROR_CHARS);
      return {
        ok: false,
        httpStatus: response.status,
        error: detail ? `HTTP ${response.status}: ${detail}` : `expected 2xx, got HTTP ${response.status}`,
      };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return {
        ok: false,
        error: `${deadline.timedOut() ? 'timed out' : (err as Error).message}${cause ? ` (${cause})` : ''}`,
      };
    } finally {
      deadline.clear();
      clearInterval(heartbeat);
    }
  }
}

/** The first `maxBytes` of an answer's body as text; the rest is never read (the stream is cancelled). */
async function readStart(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let kept = 0;
  try {
    while (kept < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      kept += value.length;
    }
  } catch {
    // A body cut off part-way: what came is enough for the error.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString('utf8');
}
