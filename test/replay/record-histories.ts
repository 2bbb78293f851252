/**
 * Records one history per workflow type and path (success, retry, stop, delay, sub jobs, hooks
 * handed on, check-ins a receiver refuses, a periodic execution, a workflow cancel, a reset, parameters the job refuses, a
 * limited batch job's hand-over to its next run, and for
 * short jobs success, stop, queued, cancel) from a real server into
 * test/replay/histories/, for the replay test. Run it (`npm run record-histories`) only when a
 * workflow change is meant to be incompatible, and keep the old files beside the new ones while
 * old runs may still be open.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHarness, testConfig } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait-for.js';
import { startDemoWithRefusedParameters } from '../helpers/refused-run.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { notificationSettings } from '../../src/jobs/harbor/notification-jobs.js';
import { queueWorkflowId } from '../../src/shared/job-queue.js';
import { queueStateQuery } from '../../src/workflows/queue-messages.js';

const OUT = process.env.HISTORY_DIR ?? 'test/replay/histories';
const label = process.env.HISTORY_LABEL ?? new Date().toISOString().slice(0, 10);

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const h = await createHarness({
  config: testConfig({
    job: {
      stop_grace_seconds: 2,
      heartbeat_timeout_seconds: 5,
      checkin_min_interval_ms: 200,
      hook_drain_ms: 300,
      hook_retry_initial_ms: 100,
      // A batch job of 30 targets hands over to a next run (continue-as-new).
      fan_out_history_events: 150,
    },
  }),
  // NOOP waits for slots at its queue, so its runs and the JobQueue workflow are recorded too;
  // TEST_BATCH's hand-over keeps its slot.
  registry: testRegistry(DEFAULT_REGISTRY_SETTINGS, notificationSettings({}), { concurrencyLimits: { NOOP: 1, TEST_BATCH: 1 } }),
});
const recorded: Record<string, string> = {};
/** Runs other than a workflow's latest: a run that continued as new. */
const recordedRuns: Record<string, { id: string; runId: string }> = {};
let refusing: HttpServer | undefined;
try {
  const demo = (extra: Record<string, unknown> = {}) => ({ image: 'demo-replay', step_ms: 50, hold_ms: 50, ...extra });
  const generic = { kind: 'Generic' };

  recorded['generic-success'] = (await h.submit({ name: 'DEMO', parameters: demo(), metadata: generic })).id;
  recorded['generic-retried-error'] = (await h.submit({ name: 'TEST_FAIL', parameters: {}, metadata: generic })).id;
  const stopped = await h.submit({ name: 'DEMO', parameters: demo({ step_ms: 5000 }), metadata: generic });
  recorded['generic-stopped'] = stopped.id;
  recorded['scheduled-delay'] = (
    await h.submit({ name: 'DEMO', parameters: demo(), metadata: { kind: 'Scheduled', schedule_delay: 1 } })
  ).id;
  recorded['sub-jobs'] = (
    await h.submit({ name: 'TEST_PARENT', parameters: { count: 2, child_step_ms: 50, hold_ms: 200 }, metadata: generic })
  ).id;
  const hooked = await h.submit({
    name: 'DEMO',
    parameters: demo(),
    metadata: generic,
    status_hook: `http://127.0.0.1:${await closedPort()}/hook`,
  });
  recorded['hooks-handed-on'] = hooked.id;
  // A receiver that refuses every check-in (as Harbor core does while a SCHEDULER callback fails)
  // and takes every status: each refused check-in gives way to the event behind it.
  const refusingReceiver = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { check_in?: string };
      res.writeHead(event.check_in ? 412 : 200).end();
    });
  });
  refusing = refusingReceiver;
  await new Promise<void>((resolve) => refusingReceiver.listen(0, '127.0.0.1', resolve));
  const refusedCheckIns = await h.submit({
    name: 'DEMO',
    parameters: demo(),
    metadata: generic,
    status_hook: `http://127.0.0.1:${(refusingReceiver.address() as { port: number }).port}/hook`,
  });
  recorded['refused-check-in'] = refusedCheckIns.id;
  // Runs that fail before they report Running, retried: each posts Running and Error (Harbor's hooks).
  recorded['hooked-retried-error'] = (
    await h.submit({
      name: 'TEST_FAIL',
      parameters: {},
      metadata: generic,
      status_hook: `http://127.0.0.1:${(refusingReceiver.address() as { port: number }).port}/hook`,
    })
  ).id;
  const cancelled = await h.submit({ name: 'DEMO', parameters: demo({ step_ms: 5000 }), metadata: generic });
  recorded['workflow-cancelled'] = cancelled.id;

  const limited = [
    await h.submit({ name: 'NOOP', parameters: { duration_ms: 300 }, metadata: generic }),
    await h.submit({ name: 'NOOP', parameters: { duration_ms: 300 }, metadata: generic }),
  ];
  recorded['limited-first'] = limited[0]!.id;
  recorded['limited-second'] = limited[1]!.id;
  const abandoned = await h.submit({ name: 'DEMO', parameters: demo({ step_ms: 1500, ignore_stop: true }), metadata: generic });
  recorded['abandoned-run'] = abandoned.id;
  await h.waitForStatus(abandoned.id, ['Running']);
  await h.request('POST', `/api/v1/jobs/${abandoned.id}`, { action: 'stop' });
  /** A run of `name` submitted while its type is paused: it waits at its queue until the resume. */
  const queuedWhilePaused = async (name: string, parameters: Record<string, unknown>) => {
    await h.request('PUT', `/api/v1/queues/${name}`, { action: 'pause' });
    const { id } = await h.submit({ name, parameters, metadata: generic });
    await waitFor(
      async () =>
        (await h.client.workflow.getHandle(queueWorkflowId(h.config.temporal.task_queue, name)).query(queueStateQuery)).waiting.length,
      (n) => n === 1,
      { what: `the ${name} run to wait at its paused queue` },
    );
    await h.request('PUT', `/api/v1/queues/${name}`, { action: 'resume' });
    return id;
  };
  recorded['queued-while-paused'] = await queuedWhilePaused('TEST_CHATTY', { count: 2, interval_ms: 10 });

  // Short jobs (local activities): a success, a stop that meets the end of the run, a run queued
  // while its type was paused, a workflow cancelled while its run goes.
  recorded['short-success'] = (await h.submit({ name: 'TEST_SHORT', parameters: {}, metadata: generic })).id;
  const shortStopped = await h.submit({ name: 'TEST_SHORT', parameters: { sleep_ms: 600 }, metadata: generic });
  recorded['short-stopped'] = shortStopped.id;
  const shortCancelled = await h.submit({ name: 'TEST_SHORT', parameters: { sleep_ms: 600 }, metadata: generic });
  recorded['short-workflow-cancelled'] = shortCancelled.id;
  const runStarted = (id: string) =>
    waitFor(
      async () => existsSync(join(h.logDir, `${id}.log`)) && readFileSync(join(h.logDir, `${id}.log`), 'utf8').includes('short run'),
      (started) => started,
      { what: `the short run of ${id} to start` },
    );
  await runStarted(shortStopped.id);
  await h.request('POST', `/api/v1/jobs/${shortStopped.id}`, { action: 'stop' });
  await runStarted(shortCancelled.id);
  await h.client.workflow.getHandle(shortCancelled.id).cancel();
  recorded['short-queued-while-paused'] = await queuedWhilePaused('TEST_SHORT', {});
  // A short job's check-in comes back with its result and goes to its hook as a check-in.
  recorded['short-check-in'] = (
    await h.submit({
      name: 'TEST_SHORT',
      parameters: { check_in: 'short summary' },
      metadata: generic,
      status_hook: `http://127.0.0.1:${(refusingReceiver.address() as { port: number }).port}/hook`,
    })
  ).id;

  await h.waitForStatus(stopped.id, ['Running']);
  await h.request('POST', `/api/v1/jobs/${stopped.id}`, { action: 'stop' });
  await h.waitForStatus(cancelled.id, ['Running']);
  await h.client.workflow.getHandle(cancelled.id).cancel();

  /** The first execution of a periodic job that `filter` lists, once there is one. */
  const firstExecution = (periodicId: string, filter: string, what: string) =>
    waitFor(
      async () => {
        for await (const e of h.client.workflow.list({ query: `TemporalScheduledById = '${periodicId}' AND ${filter}` }))
          return e.workflowId;
        return undefined;
      },
      (id) => id !== undefined,
      { timeoutMs: 30_000, what },
    );
  const periodic = await h.submit({
    name: 'DEMO',
    parameters: demo(),
    metadata: { kind: 'Periodic', cron_spec: '* * * * * *', successful_jobs_history_limit: 1 },
  });
  const execution = await firstExecution(periodic.id, `ExecutionStatus = 'Completed'`, 'a finished periodic execution');
  await h.request('POST', `/api/v1/jobs/${periodic.id}`, { action: 'stop' });
  recorded['periodic-execution'] = execution!;
  // An operator's backfill of a fire two minutes past: it replaces an earlier run of its id, if any.
  const backfilled = await h.submit({
    name: 'NOOP',
    parameters: {},
    metadata: { kind: 'Periodic', cron_spec: '*/5 * * * * *', suspend: true },
  });
  const past = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
  await h.client.schedule.getHandle(backfilled.id).backfill({ start: past, end: new Date(past.getTime() + 4_000), overlap: 'ALLOW_ALL' });
  recorded['backfilled-fire'] = (await firstExecution(backfilled.id, `ExecutionStatus = 'Completed'`, 'the backfilled fire'))!;
  await h.request('POST', `/api/v1/jobs/${backfilled.id}`, { action: 'stop' });

  // A batch job (a compact plan; a target named like an Object.prototype key), a periodic execution
  // whose failure pauses its schedule, and a Replace execution whose run ignores the cancel.
  recorded['batch-fan-out'] = (
    await h.submit({ name: 'TEST_BATCH', parameters: { count: 2, names: ['constructor'] }, metadata: generic })
  ).id;
  const failing = await h.submit({
    name: 'TEST_NO_RETRY',
    parameters: {},
    metadata: { kind: 'Periodic', cron_spec: '@yearly', pause_after_failures: 1 },
  });
  await h.request('POST', `/api/v1/jobs/${failing.id}`, { action: 'trigger' });
  await waitFor(
    () => h.stats(failing.id),
    (st) => st.paused === true,
    { timeoutMs: 30_000, what: 'the schedule paused for its failure' },
  );
  for await (const e of h.client.workflow.list({ query: `TemporalScheduledById = '${failing.id}'` }))
    recorded['paused-for-failures'] = e.workflowId;
  await h.request('POST', `/api/v1/jobs/${failing.id}`, { action: 'stop' });
  const replace = await h.submit({
    name: 'DEMO',
    parameters: demo({ step_ms: 3000, ignore_stop: true }),
    metadata: { kind: 'Periodic', cron_spec: '*/2 * * * * *', concurrency_policy: 'Replace' },
  });
  const replaced = await firstExecution(replace.id, `JobStatus = 'Cancelled'`, 'an execution cancelled by Replace');
  await h.request('POST', `/api/v1/jobs/${replace.id}`, { action: 'stop' });
  recorded['replace-abandoned'] = replaced!;

  // A stop that lands while a fan-out starts its targets: those whose start was under way get it
  // from outside the cancelled run scope.
  const stoppedStarting = await h.submit({
    name: 'TEST_BATCH',
    parameters: { count: 40, pool_size: 40, hold_ms: 30_000 },
    metadata: generic,
  });
  await waitFor(
    () => h.client.workflow.getHandle(stoppedStarting.id).describe(),
    (d) => (d.raw.pendingChildren?.length ?? 0) > 0,
    { intervalMs: 5, timeoutMs: 30_000, what: 'the fan-out to start its targets' },
  );
  await h.request('POST', `/api/v1/jobs/${stoppedStarting.id}`, { action: 'stop' });
  await h.waitForStatus(stoppedStarting.id, ['Stopped'], 30_000);
  recorded['fan-out-stopped-starting'] = stoppedStarting.id;

  // An operator's reset of a finished job: the re-run deletes the run it replaced.
  const reset = await h.submit({ name: 'DEMO', parameters: demo({ step_ms: 0, hold_ms: 0 }), metadata: generic });
  await h.waitForStatus(reset.id, ['Success']);
  const before = (await h.client.workflow.getHandle(reset.id).describe()).runId;
  execFileSync(process.env.TEST_TEMPORAL_CLI ?? 'temporal', [
    'workflow',
    'reset',
    '--workflow-id',
    reset.id,
    '--type',
    'FirstWorkflowTask',
    '--reason',
    'recorded',
    '--address',
    process.env.TEST_TEMPORAL_ADDRESS!,
  ]);
  await waitFor(
    async () => await h.client.workflow.getHandle(reset.id).describe(),
    (d) => d.runId !== before && d.status.name !== 'RUNNING',
    { timeoutMs: 30_000, what: 'the reset run to close' },
  );
  recorded['reset-rerun'] = reset.id;
  // Parameters the job's code refuses (a schedule made before a schema change): the job ends at once.
  recorded['invalid-parameters'] = await startDemoWithRefusedParameters(h);
  // A batch job of a limited type whose history is handed over: its first run keeps the slot for the next.
  const handedOver = await h.submit({ name: 'TEST_BATCH', parameters: { count: 30, pool_size: 3 }, metadata: generic });
  await h.waitForStatus(handedOver.id, ['Success', 'Error'], 120_000);
  let first: { runId: string; at: number } | undefined;
  for await (const e of h.client.workflow.list({ query: `WorkflowId = '${handedOver.id}' AND ExecutionStatus = 'ContinuedAsNew'` })) {
    if (!first || e.startTime.getTime() < first.at) first = { runId: e.runId, at: e.startTime.getTime() };
  }
  if (!first) throw new Error(`${handedOver.id} never continued as new`);
  recordedRuns['limited-hand-over'] = { id: handedOver.id, runId: first.runId };
  recorded['limited-hand-over-last'] = handedOver.id;

  for (const id of Object.values(recorded)) {
    await waitFor(
      async () => (await h.client.workflow.getHandle(id).describe()).status.name,
      (s) => s !== 'RUNNING',
      { timeoutMs: 30_000, what: `${id} to close` },
    );
  }
  // The queue workflows never end; what they recorded so far replays all the same.
  recorded['job-queue'] = queueWorkflowId(h.config.temporal.task_queue, 'NOOP');
  // The hook delivery still retries its receiver; what it recorded so far replays all the same.
  recorded['hook-delivery'] = `${hooked.id}-hooks-${(await h.stats(hooked.id)).revision}`;

  mkdirSync(OUT, { recursive: true });
  const runs = [
    ...Object.entries(recorded).map(([name, id]) => [name, id, undefined] as const),
    ...Object.entries(recordedRuns).map(([name, { id, runId }]) => [name, id, runId] as const),
  ];
  for (const [name, id, runId] of runs) {
    // The CLI writes the proto JSON that Worker.runReplayHistories reads.
    const cli = process.env.TEST_TEMPORAL_CLI ?? 'temporal';
    const json = execFileSync(cli, [
      'workflow',
      'show',
      '--workflow-id',
      id,
      ...(runId ? ['--run-id', runId] : []),
      '--output',
      'json',
      '--address',
      process.env.TEST_TEMPORAL_ADDRESS!,
    ]);
    writeFileSync(`${OUT}/${label}-${name}.json`, json);
    console.log(`recorded ${name}: ${(JSON.parse(json.toString()) as { events: unknown[] }).events.length} events`);
  }
} finally {
  await h.close();
  refusing?.close();
}
