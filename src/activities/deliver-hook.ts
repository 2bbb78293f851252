import { createHmac } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { HookAllowList } from '../hooks/hook-allow-list.js';
import { attemptDeadline } from '../process/attempt-deadline.js';
import { postHook } from '../hooks/post-hook.js';
import { eventForReceiver } from '../hooks/core-status.js';
import type { JobMetrics } from '../metrics/job-metrics.js';
import type { DeliverHookInput, DeliverHookResult } from './types.js';
import { NO_SEALING, type Sealer } from '../secrets/sealer.js';
import { newerRevision } from './outdated-hook-event.js';

/** Longest body of a failed answer kept as the error (it shows in the job's hook progress). */
const MAX_ERROR_CHARS = 200;

export const EVENT_ID_HEADER = 'X-Jobservice-Event-Id';
export const SIGNATURE_HEADER = 'X-Jobservice-Signature';

export interface HookDeliveryDeps {
  /** `job.hook_secret`: kept in the worker, never in a workflow's input or history. */
  secret?: string;
  allowList: HookAllowList;
  metrics?: JobMetrics;
  /** Opens a hook URL sealed for Temporal's history (it held a token). */
  sealer?: Sealer;
  /** Reads a job's revision, so that a retried event a newer revision outdated is dropped. */
  client?: Client;
}

/** `sha256=<hex>` over the exact body sent, as GitHub signs its webhooks. */
export function hookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * POST one event as JSON. Success is any 2xx answer, where Harbor's hook client takes exactly 200:
 * Harbor's core answers 200 (and 404 while its task row is not committed, which is retried), and a
 * receiver that answers 202 or 204 has the event, which Harbor would send again. Each POST carries
 * the event's id, the same on every attempt, and with a secret configured an HMAC of the body.
 */
export function createDeliverHook(deps: HookDeliveryDeps) {
  return async function deliverHook(input: DeliverHookInput): Promise<DeliverHookResult> {
    const result = await attempt(input);
    deps.metrics?.recordHookDelivery(result.ok);
    return result;
  };

  async function attempt(input: DeliverHookInput): Promise<DeliverHookResult> {
    let url: string;
    try {
      url = (deps.sealer ?? NO_SEALING).unsealText(input.url);
    } catch (err) {
      // Retried as any failed delivery: a worker that has the key may take it.
      return { ok: false, error: (err as Error).message };
    }
    if (input.outdatedUnlessRun !== undefined && deps.client) {
      const newer = await newerRevision(deps.client, input.event, input.outdatedUnlessRun);
      if (newer !== undefined) return { ok: false, error: `outdated: revision ${newer} of the job has begun`, outdated: newer };
    }
    // Checked again at delivery: a name may resolve elsewhere now than at submit.
    const admitted = await deps.allowList.admit(url);
    if ('refused' in admitted) return { ok: false, error: admitted.refused };
    // Heartbeats let Temporal notice a dead worker in seconds rather than at the attempt's timeout.
    const activity = Context.current();
    const heartbeat = setInterval(() => activity.heartbeat(), 1000);
    const body = JSON.stringify(eventForReceiver(input.event, url));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (input.eventId) headers[EVENT_ID_HEADER] = input.eventId;
    if (deps.secret) headers[SIGNATURE_HEADER] = hookSignature(deps.secret, body);
    // The attempt's deadline, and a worker shutting down cancels it rather than waiting out the receiver.
    const deadline = attemptDeadline(input.timeoutMs, activity.cancellationSignal);
    try {
      const answer = await postHook(url, {
        headers,
        body,
        signal: deadline.signal,
        keepBytes: MAX_ERROR_CHARS * 4,
        ...(admitted.pinned ? { addresses: admitted.pinned } : {}),
      });
      if (answer.status >= 200 && answer.status < 300) return { ok: true, httpStatus: answer.status };
      const detail = answer.bodyStart.trim().slice(0, MAX_ERROR_CHARS);
      return {
        ok: false,
        httpStatus: answer.status,
        error: detail ? `HTTP ${answer.status}: ${detail}` : `expected 2xx, got HTTP ${answer.status}`,
      };
    } catch (err) {
      const code = (err as { code?: string }).code;
      return {
        ok: false,
        error: deadline.timedOut()
          ? 'timed out'
          : `${(err as Error).message}${code && !(err as Error).message.includes(code) ? ` (${code})` : ''}`,
      };
    } finally {
      deadline.clear();
      clearInterval(heartbeat);
    }
  }
}
