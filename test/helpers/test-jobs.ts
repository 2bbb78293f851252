import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/define-job.js';
import { demoJob } from '../../src/jobs/demo-job.js';
import { createJobRegistry, type RegistryOptions } from '../../src/jobs/job-registry.js';
import { noopJob } from '../../src/jobs/noop-job.js';
import { notificationSettings, schedulerJobs, slackJob, webhookJob } from '../../src/jobs/harbor/notification-jobs.js';
import { defineBatchJob } from '../../src/jobs/batch/define-batch-job.js';
import { repositoryReportJobs } from '../../src/jobs/batch/repository-report-job.js';
import { garbageCollectionJob } from '../../src/jobs/garbage-collection-job.js';
import { retentionJob } from '../../src/jobs/retention/retention-job.js';
import { retentionRepositoryJob } from '../../src/jobs/retention/retention-repository-job.js';
import { DEFAULT_REGISTRY_SETTINGS, type RegistrySettings } from '../../src/jobs/retention/retention-settings.js';

/** Always fails; retried once, quickly, so retry behaviour is seen within a test's patience. */
export const failingJob = defineJob({
  name: 'TEST_FAIL',
  maxFails: 2,
  retryInitialIntervalMs: 200,
  params: z.object({ message: z.string().default('boom') }).strict(),
  async run(ctx, params) {
    ctx.logger.error(`failing on purpose: ${params.message}`);
    throw new Error(params.message);
  },
});

/** Holds until stopped or past its hold: a run that outlasts job.max_run_hours. */
export const overrunJob = defineJob({
  name: 'TEST_OVERRUN',
  maxFails: 2,
  retryInitialIntervalMs: 200,
  params: z.object({ hold_ms: z.number().int().min(0) }).strict(),
  async run(ctx, params) {
    await ctx.sleep(params.hold_ms);
  },
});

/** Fails, and says it should never be retried whatever maxFails allows. */
export const noRetryJob = defineJob({
  name: 'TEST_NO_RETRY',
  maxFails: 5,
  shouldRetry: false,
  params: z.object({}).strict(),
  async run() {
    throw new Error('not worth retrying');
  },
});

/** Checks in far more often than the coalescing interval. */
export const chattyJob = defineJob({
  name: 'TEST_CHATTY',
  maxFails: 1,
  params: z
    .object({
      count: z.number().int().min(1).max(10_000),
      interval_ms: z.number().int().min(0),
      /** Characters added to each check-in. */
      pad: z.number().int().min(0).max(5_000_000).default(0),
    })
    .strict(),
  async run(ctx, params) {
    for (let i = 1; i <= params.count; i++) {
      ctx.checkin(`${i}/${params.count}${'x'.repeat(params.pad)}`);
      await ctx.sleep(params.interval_ms);
    }
  },
});

/** Echoes a configured job property into its log and check-in. */
export const propertyJob = defineJob({
  name: 'TEST_PROPERTY',
  maxFails: 1,
  params: z.object({ key: z.string() }).strict(),
  async run(ctx, params) {
    ctx.checkin(`property ${params.key}=${String(ctx.get(params.key))}`);
  },
});

/** Launches `count` DEMO (or NOOP) sub jobs, then waits until stopped or `hold_ms` passes. */
export const parentJob = defineJob({
  name: 'TEST_PARENT',
  maxFails: 1,
  params: z
    .object({
      count: z.number().int().min(1).max(200),
      child_step_ms: z.number().int(),
      hold_ms: z.number().int(),
      noop: z.boolean().optional(),
    })
    .strict(),
  async run(ctx, params) {
    for (let i = 0; i < params.count; i++) {
      if (params.noop) await ctx.launchJob({ name: 'NOOP' });
      else await ctx.launchJob({ name: 'DEMO', parameters: { image: `demo-child-${i}`, step_ms: params.child_step_ms, hold_ms: 0 } });
    }
    await assertRejects(ctx.launchJob({ name: 'DEMO', parameters: { image: 'nginx' } }));
    ctx.checkin(`launched ${params.count}`);
    await ctx.sleep(params.hold_ms);
  },
});

/**
 * Launches a NOOP with a status hook of its own and checks in its id; first tries hooks the API
 * would refuse (each refusal checked in, so the test sees the reasons).
 */
export const hookedParentJob = defineJob({
  name: 'TEST_HOOKED_PARENT',
  maxFails: 1,
  params: z.object({ hook: z.string(), refused: z.array(z.string()) }).strict(),
  async run(ctx, params) {
    const reasons: string[] = [];
    for (const hook of params.refused) {
      try {
        await ctx.launchJob({ name: 'NOOP', status_hook: hook });
        reasons.push(`accepted ${hook}`);
      } catch (err) {
        reasons.push((err as Error).message);
      }
    }
    const id = await ctx.launchJob({ name: 'NOOP', status_hook: params.hook });
    ctx.checkin(JSON.stringify({ id, reasons }));
  },
});

/** Launches a TEST_BATCH, a fan-out type, as its sub job and checks in its id. */
export const batchParentJob = defineJob({
  name: 'TEST_BATCH_PARENT',
  maxFails: 1,
  params: z.object({ count: z.number().int().min(0).max(100), hold_ms: z.number().int().min(0).default(0) }).strict(),
  async run(ctx, params) {
    ctx.checkin(await ctx.launchJob({ name: 'TEST_BATCH', parameters: { count: params.count, hold_ms: params.hold_ms } }));
  },
});

/** A short job that tries to launch a DEMO. */
export const shortParentJob = defineJob({
  name: 'TEST_SHORT_PARENT',
  maxFails: 1,
  short: { capMs: 3000 },
  params: z.object({}).strict(),
  async run(ctx) {
    await ctx.launchJob({ name: 'DEMO', parameters: { image: 'demo-child', step_ms: 0, hold_ms: 0 } });
  },
});

/** A periodic execution that succeeds on even seconds of its nominal time and fails on odd ones. */
export const flipJob = defineJob({
  name: 'TEST_FLIP',
  maxFails: 1,
  params: z.object({}).strict(),
  async run(ctx) {
    const second = Number(/:(\d{2})Z$/.exec(ctx.jobId)?.[1] ?? 0);
    if (second % 2 === 1) throw new Error(`odd second ${second}`);
  },
});

/** Takes credentials: checks in a hash of what it got (so a test sees it got them as submitted), logs them, and can fail naming them. */
export const secretsJob = defineJob({
  name: 'TEST_SECRETS',
  maxFails: 1,
  params: z
    .object({
      password: z.string(),
      api_token: z.string(),
      endpoint: z.string(),
      nested: z.object({ client_secret: z.string() }).strict(),
      fail: z.boolean().default(false),
      /** Checks in its secrets too, as a careless job would. */
      announce: z.boolean().default(false),
      /** Launches a sub job of its own type with the same secrets, and checks in its id too. */
      launch: z.boolean().default(false),
    })
    .strict(),
  async run(ctx, params) {
    if (params.launch) {
      const { launch: _launch, ...rest } = params;
      ctx.checkin(await ctx.launchJob({ name: 'TEST_SECRETS', parameters: rest }));
      return;
    }
    ctx.logger.info(`logging in with ${params.password} and ${params.api_token} at ${params.endpoint}`);
    const got = createHash('sha256')
      .update(`${params.password}|${params.api_token}|${params.endpoint}|${params.nested.client_secret}`)
      .digest('hex');
    ctx.checkin(params.announce ? `${got} logged in with ${params.password} at ${params.endpoint}` : got);
    if (params.fail) throw new Error(`could not reach ${params.endpoint} with ${params.password}`);
  },
});

/** A short job (local activity, 1 s cap) that can wait, and fail. */
export const shortJob = defineJob({
  name: 'TEST_SHORT',
  maxFails: 2,
  retryInitialIntervalMs: 100,
  short: { capMs: 1000 },
  params: z
    .object({ sleep_ms: z.number().int().min(0).default(0), fail: z.boolean().default(false), check_in: z.string().optional() })
    .strict(),
  async run(ctx, params) {
    ctx.logger.info('short run');
    if (params.check_in !== undefined) ctx.checkin(params.check_in);
    await new Promise((resolve) => setTimeout(resolve, params.sleep_ms));
    if (params.fail) throw new Error('short job failed as asked');
  },
});

/** A short job that holds its job slot for `hold_ms` (its cap is 15 s), logging `holding` first. */
export const holdingShortJob = defineJob({
  name: 'TEST_SHORT_HOLD',
  maxFails: 1,
  short: { capMs: 15_000 },
  params: z.object({ hold_ms: z.number().int().min(0).max(14_000) }).strict(),
  async run(ctx, params) {
    ctx.logger.info('holding');
    await ctx.sleep(params.hold_ms);
  },
});

/**
 * Waits on plain timers without looking at its signal until it is asked to stop, and only then
 * reads the signal and sleeps: the signal made that late must already be aborted, with the reason.
 */
export const lateSignalJob = defineJob({
  name: 'TEST_LATE_SIGNAL',
  params: z.object({}).strict(),
  async run(ctx) {
    const deadline = Date.now() + 30_000;
    while (!ctx.opCommand() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const { aborted, reason } = ctx.signal;
    const before = Date.now();
    await ctx.sleep(10_000);
    ctx.logger.info(`late signal: aborted=${aborted} reason=${String(reason)} sleep_ms=${Date.now() - before}`);
  },
});

async function assertRejects(promise: Promise<unknown>) {
  try {
    await promise;
  } catch {
    return;
  }
  throw new Error('launchJob accepted parameters that fail the sub job schema');
}

/**
 * A batch job over `count` targets t00, t01, …: each reports when it started and ended (its own
 * clock), a value labelled by parity, saves a file and records an event; chosen targets fail or
 * report an undeclared gauge.
 */
export const [testBatchJob, testBatchTarget] = defineBatchJob({
  name: 'TEST_BATCH',
  metricsPrefix: 'test_batch',
  params: z
    .object({
      count: z.number().int().min(0).max(20_000),
      hold_ms: z.number().int().min(0).default(0),
      fail: z.array(z.string()).default([]),
      undeclared: z.array(z.string()).default([]),
      tag: z.string().default(''),
      /** Targets hold with a plain timer, deaf to stop and cancel. */
      ignore_stop: z.boolean().default(false),
      /** Targets of these names, after the `count` numbered ones. */
      names: z.array(z.string().min(1).max(64)).default([]),
      /** The numbered targets' names are this much longer (`t07-xxx…`): a plan's size. */
      pad: z.number().int().min(0).max(200).default(0),
    })
    .strict(),
  gauges: [
    { suffix: 'started_ms', help: 'when the target started', labels: [] },
    { suffix: 'ended_ms', help: 'when the target ended', labels: [] },
    { suffix: 'value', help: 'the target index', labels: ['parity', 'tag'] },
  ],
  async listTargets(_ctx, params) {
    const padding = params.pad > 0 ? `-${'x'.repeat(params.pad - 1)}` : '';
    return [...Array.from({ length: params.count }, (_, i) => `t${String(i).padStart(2, '0')}${padding}`), ...params.names];
  },
  async runTarget(ctx, params) {
    const started = Date.now();
    if (params.ignore_stop) await new Promise((resolve) => setTimeout(resolve, params.hold_ms));
    else await ctx.sleep(params.hold_ms);
    if (ctx.opCommand()) return;
    const index = params.names.includes(ctx.target) ? -1 : parseInt(ctx.target.slice(1), 10);
    if (params.undeclared.includes(ctx.target)) ctx.report({ not_declared: [{ value: 1, labels: {} }] });
    await ctx.saveFile('result.txt', `target ${ctx.target} of ${ctx.executionId}\n`);
    ctx.event('TargetDone', 'target %s done', { args: [ctx.target] });
    if (params.fail.includes(ctx.target)) throw new Error(`target ${ctx.target} fails as asked`);
    ctx.report({
      started_ms: [{ value: started, labels: {} }],
      ended_ms: [{ value: Date.now(), labels: {} }],
      value: [{ value: index, labels: { parity: index % 2 === 0 ? 'even' : 'odd', tag: params.tag } }],
    });
  },
});

/** The test jobs beside the real ones; the registry jobs take `settings` (credentials, GC command). */
export function testRegistry(
  settings: RegistrySettings = DEFAULT_REGISTRY_SETTINGS,
  // Harbor's 16 s before a failed notification's retry (the default) would make every test of one wait it.
  notifications = { ...notificationSettings({}), retryInitialMs: 200 },
  options: RegistryOptions = {},
) {
  return createJobRegistry(
    [
      demoJob,
      noopJob,
      failingJob,
      noRetryJob,
      overrunJob,
      chattyJob,
      propertyJob,
      parentJob,
      hookedParentJob,
      batchParentJob,
      shortParentJob,
      flipJob,
      secretsJob,
      shortJob,
      holdingShortJob,
      lateSignalJob,
      retentionJob(settings),
      retentionRepositoryJob(settings),
      garbageCollectionJob(settings),
      testBatchJob,
      testBatchTarget,
      ...schedulerJobs,
      webhookJob(notifications),
      slackJob(notifications),
      ...repositoryReportJobs(settings),
    ],
    options,
  );
}
