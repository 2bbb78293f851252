import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { JobKind, JobStatus, type JobInput, type JobStats } from '../../src/shared/job-model.js';
import { createSealer } from '../../src/secrets/sealer.js';
import { jobStartOptions } from '../../src/shared/job-start.js';
import { RETRY_DEFAULTS, TIMING_DEFAULTS } from '../../src/shared/start-input.js';
import { GenericJob } from '../../src/workflows/job-workflow.js';
import { MEMO_PERIODIC, scheduleSearchAttributes } from '../../src/api/periodic-record.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { waitFor } from '../helpers/wait-for.js';

const PASSWORD = 'pa55-Word-of-the-robot';
const TOKEN = 'tok-9f8e7d6c5b4a';
const URL_PASSWORD = 'url-pa55word';
const QUERY_TOKEN = 'qtoken-123456';
const CLIENT_SECRET = 'client-secret-abcdef';
/** In the status hook's URL: the receiver gets its POSTs there, nothing shows it. */
const HOOK_TOKEN = 'hooktok-7a6b5c4d';
const HOOK_PATH = `secrets?token=${HOOK_TOKEN}`;
const SECRETS = [PASSWORD, TOKEN, URL_PASSWORD, QUERY_TOKEN, CLIENT_SECRET, HOOK_TOKEN];
const parameters = {
  password: PASSWORD,
  api_token: TOKEN,
  endpoint: `https://robot:${URL_PASSWORD}@registry.example/v2/?token=${QUERY_TOKEN}&page=2`,
  nested: { client_secret: CLIENT_SECRET },
};
const SEALING_KEY = 'the sealing key of this test file';
const gotThem = createHash('sha256').update(`${PASSWORD}|${TOKEN}|${parameters.endpoint}|${CLIENT_SECRET}`).digest('hex');

/** A workflow's history as text, its payloads decoded: what the Web UI and `temporal workflow show` show. */
async function historyText(h: Harness, workflowId: string, runId?: string): Promise<string> {
  const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
  return payloadsAsText(history);
}

function payloadsAsText(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    // A history as fetchHistory gives it: payload bytes in base64.
    if (key === 'data' && typeof v === 'string') return Buffer.from(v, 'base64').toString('utf8');
    const buffer = v as { type?: string; data?: number[] } | null;
    if (buffer?.type === 'Buffer' && Array.isArray(buffer.data)) return Buffer.from(buffer.data).toString('utf8');
    return v;
  });
}

describe('secrets stay secret: the job gets them, nothing shows them', () => {
  let h: Harness;
  let receiver: HookReceiver;
  const schedules: string[] = [];
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({
        job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, hook_retry_initial_ms: 100, sealing_keys: [SEALING_KEY] },
      }),
    });
  });
  after(async () => {
    await deleteSchedules(h.client, schedules);
    await h.close();
    await receiver.close();
  });

  const assertHidden = (where: string, text: string) => {
    for (const secret of SECRETS) assert.equal(text.includes(secret), false, `${secret} shows in ${where}`);
  };

  it('hidden in the submit answer, stats, lists, the memo, hooks, the log and the last error; the job still gets them, on retry too', async () => {
    const response = await h.request('POST', '/api/v1/jobs', {
      job: {
        name: 'TEST_SECRETS',
        parameters: { ...parameters, fail: true },
        status_hook: receiver.url(HOOK_PATH),
        metadata: { kind: 'Generic' },
      },
    });
    assert.equal(response.status, 202);
    const submitted = ((await response.json()) as { job: JobStats }).job;
    const done = await h.waitForStatus(submitted.id, ['Error']);
    assert.equal(done.check_in, gotThem, 'the job got its parameters as submitted');
    assert.deepEqual(done.parameters, {
      password: '[redacted]',
      api_token: '[redacted]',
      endpoint: 'https://robot:[redacted]@registry.example/v2/?token=[redacted]&page=2',
      nested: { client_secret: '[redacted]' },
      fail: true,
    });
    assert.match(done.last_error ?? '', /could not reach https:\/\/robot:\[redacted\]@registry\.example/);
    await waitFor(
      async () => receiver.accepted(HOOK_PATH),
      (events) => events.some((e) => e.status === 'Error'),
      { what: 'the Error hook' },
    );
    assert.match(done.web_hook_url ?? '', /\?token=\[redacted\]$/);
    const places: Record<string, string> = {
      submit: JSON.stringify(submitted),
      stats: JSON.stringify(done),
      list: await (await h.request('GET', '/api/v1/jobs?name=TEST_SECRETS&page_size=100')).text(),
      memo: JSON.stringify((await h.client.workflow.getHandle(submitted.id).describe()).memo),
      hooks: JSON.stringify(receiver.accepted(HOOK_PATH)),
      'hook log': await (await h.request('GET', `/api/v1/jobs/${submitted.id}/hooks`)).text(),
      log: readFileSync(join(h.logDir, `${submitted.id}.log`), 'utf8'),
      // Sealed for the worker: the Web UI and the CLI show the job's input and its activity's arguments.
      history: await historyText(h, submitted.id),
    };
    assert.match(places.history!, /sealed:v1:/, 'the history holds the sealed values');
    assert.match(places.log!, /logging in with \[redacted\] and \[redacted\] at https:\/\/robot:\[redacted\]@/);
    for (const [where, text] of Object.entries(places)) assertHidden(where, text);

    // A retry runs with the parameters as submitted, not as shown (once the run has wound up).
    await waitFor(
      async () => (await h.client.workflow.getHandle(submitted.id).describe()).status.name,
      (status) => status !== 'RUNNING',
      { what: 'the failed run to close' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${submitted.id}`, { action: 'retry' })).status, 204);
    const retried = await waitFor(
      () => h.stats(submitted.id),
      (s) => s.status === 'Error' && s.revision > submitted.revision,
      { what: 'the retried run to end' },
    );
    assert.equal(retried.check_in, gotThem);
    assertHidden('the retried stats', JSON.stringify(retried));
    assertHidden("the retried run's history", await historyText(h, submitted.id));
    // The retried run posts its hooks to the URL as submitted, token and all.
    await waitFor(
      async () => receiver.accepted(HOOK_PATH),
      (events) => events.some((e) => e.status === 'Error' && e.metadata.revision > submitted.revision),
      { what: "the retried run's Error hook at the hook URL as submitted" },
    );
  });

  it('hidden in a check-in that names them: stats, the memo and the hook carry it masked', async () => {
    const job = await h.submit({
      name: 'TEST_SECRETS',
      parameters: { ...parameters, announce: true },
      status_hook: receiver.url('announce'),
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error']);
    assert.equal(done.status, 'Success');
    assert.equal(
      done.check_in,
      `${gotThem} logged in with [redacted] at https://robot:[redacted]@registry.example/v2/?token=[redacted]&page=2`,
    );
    const hooks = await waitFor(
      async () => receiver.accepted('announce'),
      (events) => events.some((e) => e.status === 'Success'),
      { what: 'the Success hook' },
    );
    assert.ok(
      hooks.some((e) => (e as { check_in?: string }).check_in?.startsWith(gotThem)),
      'the check-in went out in a hook',
    );
    assertHidden('the check-in hooks', JSON.stringify(hooks));
    assertHidden('the memo', JSON.stringify((await h.client.workflow.getHandle(job.id).describe()).memo));
    assertHidden('the hook log', await (await h.request('GET', `/api/v1/jobs/${job.id}/hooks`)).text());
  });

  it('hidden in a periodic job recorded before parameters were redacted on the way in', async () => {
    // Such a schedule's record holds the parameters as submitted; only what is shown is redacted.
    const id = randomBytes(12).toString('hex');
    const now = Math.floor(Date.now() / 1000);
    await h.client.schedule.create({
      scheduleId: id,
      spec: { intervals: [{ every: '365 days' }] },
      action: { type: 'startWorkflow', workflowType: 'ScheduledJob', workflowId: id, taskQueue: h.config.temporal.task_queue, args: [] },
      state: { paused: true },
      memo: {
        [MEMO_PERIODIC]: { id, name: 'TEST_SECRETS', parameters, cronSpec: '@yearly', options: {}, enqueueTime: now },
      },
      typedSearchAttributes: scheduleSearchAttributes('TEST_SECRETS', JobStatus.Scheduled, h.config.temporal.task_queue),
    });
    schedules.push(id);
    const stats = await h.stats(id);
    assert.equal(stats.parameters?.password, '[redacted]');
    assertHidden('the old record’s stats', JSON.stringify(stats));
    assertHidden('the list of periodic jobs', await (await h.request('GET', '/api/v1/jobs?kind=Periodic&name=TEST_SECRETS')).text());
  });

  it('hidden in a periodic job’s stats and the list of periodic jobs', async () => {
    const job = await h.submit({
      name: 'TEST_SECRETS',
      parameters,
      status_hook: receiver.url('periodic?token=' + HOOK_TOKEN),
      metadata: { kind: 'Periodic', cron_spec: '@yearly' },
    });
    schedules.push(job.id);
    assertHidden('the periodic submit answer', JSON.stringify(job));
    assertHidden('the periodic stats', JSON.stringify(await h.stats(job.id)));
    assertHidden('the periodic list', await (await h.request('GET', '/api/v1/jobs?kind=Periodic&name=TEST_SECRETS')).text());
    assertHidden('the schedule memo', JSON.stringify((await h.client.schedule.getHandle(job.id).describe()).memo));
    // The schedule's action (`temporal schedule describe`) starts every execution with the sealed input.
    const described = await h.client.schedule.getHandle(job.id).describe();
    assertHidden("the schedule's action", payloadsAsText(described.raw));
    assert.match(JSON.stringify(described.action), /sealed:v1:/);
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
    const execution = await waitFor(
      async () => ((await (await h.request('GET', `/api/v1/jobs/${job.id}/executions`)).json()) as { job: JobStats }[]).map((r) => r.job),
      (list) => list.length === 1 && list[0]!.status === 'Success',
      { what: 'the execution to succeed' },
    );
    assert.equal(execution[0]!.check_in, gotThem, 'an execution gets the parameters as submitted');
    assertHidden('the execution', JSON.stringify(execution));
    await waitFor(
      async () => receiver.accepted('periodic?token=' + HOOK_TOKEN),
      (events) => events.some((e) => e.status === 'Success'),
      { what: "the execution's Success hook at the hook URL as submitted" },
    );
    assertHidden("the execution's hook", JSON.stringify(receiver.accepted('periodic?token=' + HOOK_TOKEN)));
    assertHidden("the execution's history", await historyText(h, execution[0]!.id));
  });

  it('hidden in the histories of a sub job the job launches with them; the sub job gets them', async () => {
    const parent = await h.submit({ name: 'TEST_SECRETS', parameters: { ...parameters, launch: true }, metadata: { kind: 'Generic' } });
    const done = await h.waitForStatus(parent.id, ['Success', 'Error']);
    assert.equal(done.status, 'Success');
    const childId = done.check_in!;
    const child = await h.waitForStatus(childId, ['Success', 'Error']);
    assert.equal(child.status, 'Success');
    assert.equal(child.check_in, gotThem, 'the sub job got the parameters as its parent gave them');
    assert.equal(child.upstream_job_id, parent.id);
    assertHidden("the parent's history", await historyText(h, parent.id));
    assertHidden("the sub job's history", await historyText(h, childId));
    assertHidden("the sub job's stats", JSON.stringify(child));
  });

  it('a worker without the key a job was sealed with fails its run, naming the key', async () => {
    const other = createSealer(['a key this deployment does not have']);
    const input: JobInput = {
      id: randomBytes(12).toString('hex'),
      name: 'TEST_SECRETS',
      kind: JobKind.Generic,
      parameters: other.sealParameters(parameters),
      unique: false,
      enqueueTime: Math.floor(Date.now() / 1000),
      revision: Math.floor(Date.now() / 1000),
      retry: { ...RETRY_DEFAULTS, maxFails: 1 },
      timings: { ...TIMING_DEFAULTS },
    };
    await h.client.workflow.start(GenericJob, { taskQueue: h.config.temporal.task_queue, ...jobStartOptions(input) });
    const done = await h.waitForStatus(input.id, ['Error', 'Success']);
    assert.equal(done.status, 'Error');
    assert.match(done.last_error ?? '', new RegExp(`sealed with key ${other.keyId}, which is not among this process's job\\.sealing_keys`));
    // Its retry cannot open them either: a 409 that says why, not a 500 and not a run that fails again.
    await waitFor(
      async () => (await h.client.workflow.getHandle(input.id).describe()).status.name,
      (status) => status !== 'RUNNING',
      { what: 'the failed run to close' },
    );
    const retry = await h.request('POST', `/api/v1/jobs/${input.id}`, { action: 'retry' });
    assert.equal(retry.status, 409);
    const body = (await retry.json()) as { code: number; err: string; description: string };
    assert.ok(Number.isInteger(body.code) && typeof body.err === 'string', JSON.stringify(body));
    assert.match(body.description, new RegExp(`cannot be retried: a parameter is sealed with key ${other.keyId}`));
  });
});

describe('secrets stay out of the service output', () => {
  let h: Harness;
  before(async () => {
    const config = testConfig();
    // The job's log goes to the process's standard output too (Harbor's STD_OUTPUT job logger).
    config.job_loggers.push({ name: 'STD_OUTPUT', level: 'INFO', settings: {} });
    h = await createHarness({ config });
  });
  after(async () => {
    await h.close();
  });

  it('the job logger on standard output masks them as the file does', async () => {
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    let id: string;
    try {
      ({ id } = await h.submit({ name: 'TEST_SECRETS', parameters, metadata: { kind: 'Generic' } }));
      await h.waitForStatus(id, ['Success']);
    } finally {
      process.stdout.write = original;
    }
    const output = written.join('');
    assert.match(output, new RegExp(`\\[job ${id}\\] .*logging in with \\[redacted\\]`));
    for (const secret of SECRETS) assert.equal(output.includes(secret), false, `${secret} shows on standard output`);
  });
});
