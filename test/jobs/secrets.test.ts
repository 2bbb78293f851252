import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobStats } from '../../src/shared/job-model.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { deleteSchedules } from '../helpers/schedules.js';
import { waitFor } from '../helpers/wait-for.js';

const PASSWORD = 'pa55-Word-of-the-robot';
const TOKEN = 'tok-9f8e7d6c5b4a';
const URL_PASSWORD = 'url-pa55word';
const QUERY_TOKEN = 'qtoken-123456';
const CLIENT_SECRET = 'client-secret-abcdef';
const SECRETS = [PASSWORD, TOKEN, URL_PASSWORD, QUERY_TOKEN, CLIENT_SECRET];
const parameters = {
  password: PASSWORD,
  api_token: TOKEN,
  endpoint: `https://robot:${URL_PASSWORD}@registry.example/v2/?token=${QUERY_TOKEN}&page=2`,
  nested: { client_secret: CLIENT_SECRET },
};
const gotThem = createHash('sha256').update(`${PASSWORD}|${TOKEN}|${parameters.endpoint}|${CLIENT_SECRET}`).digest('hex');

describe('secrets stay secret: the job gets them, nothing shows them', () => {
  let h: Harness;
  let receiver: HookReceiver;
  const schedules: string[] = [];
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({ job: { stop_grace_seconds: 2, heartbeat_timeout_seconds: 5, hook_retry_initial_ms: 100 } }),
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
        status_hook: receiver.url('secrets'),
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
      async () => receiver.accepted('secrets'),
      (events) => events.some((e) => e.status === 'Error'),
      { what: 'the Error hook' },
    );
    const places: Record<string, string> = {
      submit: JSON.stringify(submitted),
      stats: JSON.stringify(done),
      list: await (await h.request('GET', '/api/v1/jobs?name=TEST_SECRETS&page_size=100')).text(),
      memo: JSON.stringify((await h.client.workflow.getHandle(submitted.id).describe()).memo),
      hooks: JSON.stringify(receiver.accepted('secrets')),
      log: readFileSync(join(h.logDir, `${submitted.id}.log`), 'utf8'),
    };
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
  });

  it('hidden in a periodic job’s stats and the list of periodic jobs', async () => {
    const job = await h.submit({ name: 'TEST_SECRETS', parameters, metadata: { kind: 'Periodic', cron_spec: '@yearly' } });
    schedules.push(job.id);
    assertHidden('the periodic submit answer', JSON.stringify(job));
    assertHidden('the periodic stats', JSON.stringify(await h.stats(job.id)));
    assertHidden('the periodic list', await (await h.request('GET', '/api/v1/jobs?kind=Periodic&name=TEST_SECRETS')).text());
    assertHidden('the schedule memo', JSON.stringify((await h.client.schedule.getHandle(job.id).describe()).memo));
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'trigger' })).status, 204);
    const execution = await waitFor(
      async () => ((await (await h.request('GET', `/api/v1/jobs/${job.id}/executions`)).json()) as { job: JobStats }[]).map((r) => r.job),
      (list) => list.length === 1 && list[0]!.status === 'Success',
      { what: 'the execution to succeed' },
    );
    assert.equal(execution[0]!.check_in, gotThem, 'an execution gets the parameters as submitted');
    assertHidden('the execution', JSON.stringify(execution));
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
