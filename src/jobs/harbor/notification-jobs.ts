import { z } from 'zod';
import { canonicalJson } from '../../shared/canonical-json.js';
import { defineJob } from '../define-job.js';
import type { JobContext } from '../job-context.js';
import { MAX_TIMER_MS } from '../../process/attempt-deadline.js';
import { postOnce, redactUrl } from './http-post.js';

/** Harbor core's notification settings, from its environment names. */
export interface NotificationSettings {
  /** `JOBSERVICE_WEBHOOK_JOB_MAX_RETRY`: runs of a WEBHOOK or SLACK job (Harbor: 3; 0 is gocraft's default, 4). */
  maxFails: number;
  /** `JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT`, seconds (Harbor: 3); undefined: none, as Go reads 0 or less. */
  timeoutSeconds: number | undefined;
  /** Slack's rate limit: one message a second. */
  slackPauseMs: number;
  /**
   * The wait before a failed notification's first retry, doubling after: Harbor's gocraft waits
   * fails⁴ + 15 + rand(30)·(fails + 1) s (16–76 s, then 31–121 s), so a receiver down for a few
   * seconds (a restart, Slack's 429) still gets the message. 16 s: gocraft's shortest.
   */
  retryInitialMs: number;
}

/**
 * Read as Harbor reads them: the retries with Go's `ParseUint` (anything else is the default 3,
 * and 0 gocraft's default of 4), the timeout with `ParseInt` (anything else is the default 3 s,
 * and 0 or less no timeout, as Go's `http.Client` takes it).
 */
export function notificationSettings(env: Record<string, string | undefined> = process.env): NotificationSettings {
  const retries = env.JOBSERVICE_WEBHOOK_JOB_MAX_RETRY;
  const maxFails = retries !== undefined && /^\d+$/.test(retries) && Number(retries) <= 0xffffffff ? Number(retries) : 3;
  const timeout = env.JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT;
  const seconds = timeout !== undefined && /^[+-]?\d+$/.test(timeout) ? Number(timeout) : 3;
  return {
    maxFails: maxFails === 0 ? 4 : maxFails,
    // Past Node's longest timer (24.8 days) a deadline would fire at once: that long is none.
    timeoutSeconds: seconds > 0 && seconds * 1000 <= MAX_TIMER_MS ? seconds : undefined,
    slackPauseMs: 1000,
    retryInitialMs: 16_000,
  };
}

/**
 * A header value: any text but control characters (a line break would end the header). Go's
 * client sends the rest as its UTF-8 bytes, and so does ours.
 */
// eslint-disable-next-line no-control-regex
const HeaderValue = z.string().regex(/^[^\x00-\x08\x0a-\x1f\x7f]*$/, 'has a control character');

/** The header map core sends: a JSON string of `{"Name": ["value", …]}`. */
const HeaderJson = z
  .string()
  .max(64 * 1024)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of header names to lists of values' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'is not a header name'), z.array(HeaderValue)));

const NotificationParams = z
  .object({
    address: z.url({ protocol: /^https?$/ }).max(2048),
    payload: z.string().max(4 * 1024 * 1024),
    header: HeaderJson.optional(),
    /** What cores before Harbor 2.8 send instead of `header`: the Authorization value alone. */
    auth_header: HeaderValue.max(8 * 1024).optional(),
    skip_cert_verify: z.boolean().default(false),
  })
  .strict();

/** Core never sent SLACK an `auth_header`: one given would be dropped, so it is refused. */
const SlackParams = NotificationParams.omit({ auth_header: true });

/** Header values are secrets as often as not (tokens): the log names the headers only. */
function describeHeaders(headers: Record<string, string[]>): string {
  const names = Object.keys(headers);
  return names.length === 0 ? 'no headers' : `headers ${names.map((n) => `${n}: ***`).join(', ')}`;
}

async function post(
  ctx: JobContext,
  settings: NotificationSettings,
  params: z.infer<typeof SlackParams>,
  headers: Record<string, string[]>,
): Promise<void> {
  ctx.logger.info(`POST ${redactUrl(params.address)} with ${describeHeaders(headers)}: ${params.payload}`);
  const result = await postOnce(params.address, params.payload, headers, {
    timeoutMs: settings.timeoutSeconds === undefined ? undefined : settings.timeoutSeconds * 1000,
    insecure: params.skip_cert_verify,
    signal: ctx.signal,
  }).catch((err: Error) => {
    throw new Error(`POST ${redactUrl(params.address)} failed: ${err.message}`);
  });
  if (result.status < 200 || result.status > 299) {
    throw new Error(`POST ${redactUrl(params.address)} answered ${result.status}: ${result.body}`);
  }
  ctx.logger.info(`delivered: ${result.status}`);
}

/**
 * Core's header map as sent (Harbor 2.8 on). A core before 2.8 sends `auth_header`, which its
 * job sent as `Authorization` with `Content-Type: application/json`; a header map's own
 * Authorization wins over it.
 */
function webhookHeaders(params: z.infer<typeof NotificationParams>): Record<string, string[]> {
  const headers = params.header ?? {};
  // Such a core sends it always, empty when the policy has no auth header.
  if (params.auth_header === undefined) return headers;
  const has = (name: string) => Object.keys(headers).some((k) => k.toLowerCase() === name);
  return {
    ...(has('content-type') ? {} : { 'Content-Type': ['application/json'] }),
    ...(has('authorization') || params.auth_header === '' ? {} : { Authorization: [params.auth_header] }),
    ...headers,
  };
}

/** The longest HTTP timeout under which a WEBHOOK still runs as a short job. */
const SHORT_WEBHOOK_MAX_TIMEOUT_S = 5;

/** Harbor core's webhook notifications: `payload` POSTed as is, with core's headers. */
export function webhookJob(settings: NotificationSettings) {
  return defineJob({
    name: 'WEBHOOK',
    maxFails: settings.maxFails,
    retryInitialIntervalMs: settings.retryInitialMs,
    // One POST under a short HTTP timeout (Harbor's is 3 s): a short job. A short job reads Pending
    // and sends no Running until its run ends, and a stop waits for that end: under a longer
    // timeout, or none, it runs as any job does, with heartbeats, Running at once and a stop that
    // aborts the POST.
    ...(settings.timeoutSeconds === undefined || settings.timeoutSeconds > SHORT_WEBHOOK_MAX_TIMEOUT_S
      ? {}
      : { short: { capMs: settings.timeoutSeconds * 1000 + 5_000 } }),
    params: NotificationParams,
    async run(ctx, params) {
      await post(ctx, settings, params, webhookHeaders(params));
    },
  });
}

/** Harbor core's Slack notifications: JSON to the incoming-webhook address, then a second's pause for Slack's rate limit. */
export function slackJob(settings: NotificationSettings) {
  return defineJob({
    name: 'SLACK',
    maxFails: settings.maxFails,
    retryInitialIntervalMs: settings.retryInitialMs,
    // Harbor's MaxCurrency 1: Slack rate-limits a webhook, so messages go out one at a time.
    maxConcurrency: 1,
    params: SlackParams,
    async run(ctx, params) {
      // The pause follows a refused post too (Harbor sleeps whatever the outcome): a 429 is Slack's
      // rate limit, and the next message, in this slot, must not go straight after it.
      try {
        await post(ctx, settings, params, { ...(params.header ?? {}), 'Content-Type': ['application/json'] });
      } finally {
        if (!ctx.signal.aborted) await ctx.sleep(settings.slackPauseMs);
      }
    },
  });
}

/**
 * Harbor core's single periodic job: every firing checks in its parameters as JSON (keys sorted,
 * as Go marshals a map), and core's callback runs from that check-in's status hook. The legacy
 * names are the same job, kept so old policies drain.
 */
export const schedulerJobs = ['SCHEDULER', 'IMAGE_REPLICATE', 'IMAGE_GC', 'IMAGE_SCAN_ALL'].map((name) =>
  defineJob({
    name,
    maxFails: 3,
    params: z.record(z.string(), z.unknown()),
    async run(ctx, params) {
      ctx.checkin(canonicalJson(params));
    },
  }),
);
