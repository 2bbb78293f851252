import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hookSignature } from '../../src/activities/deliver-hook.js';
import type { HookLog } from '../../src/api/contract.js';
import { createHarness, testConfig, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

const SECRET = 'hook-secret-0123456789';

describe('hooks an integrator can trust: event ids, signatures, the hook log, an allow-list', () => {
  let h: Harness;
  let receiver: HookReceiver;
  before(async () => {
    receiver = await startHookReceiver();
    h = await createHarness({
      config: testConfig({
        job: {
          stop_grace_seconds: 2,
          heartbeat_timeout_seconds: 5,
          hook_retry_initial_ms: 200,
          hook_secret: SECRET,
          hook_allowed_hosts: ['127.0.0.0/8', 'core.example', '*.harbor.test'],
        },
      }),
    });
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  it('each POST carries its event id, the same on every attempt, and an HMAC-SHA256 of the body; GET …/hooks shows the attempts and the events still waiting', async () => {
    receiver.setDown(true);
    const job = await h.submit({
      name: 'DEMO',
      parameters: { image: 'demo-hooks', step_ms: 0, hold_ms: 0 },
      status_hook: receiver.url('trust'),
      metadata: { kind: 'Generic' },
    });
    await waitFor(
      async () => receiver.refused('trust'),
      (n) => n >= 2,
      { what: 'two refused attempts' },
    );
    // While the receiver is down, the events behind the first wait their turn: the log lists them, not yet attempted.
    await h.waitForStatus(job.id, ['Success']);
    const waiting = await waitFor(
      async () => (await (await h.request('GET', `/api/v1/jobs/${job.id}/hooks`)).json()) as HookLog,
      (l) => l.events.some((e) => e.status === 'Success'),
      { what: 'the Success event in the hook log while the receiver is down' },
    );
    const success = waiting.events.find((e) => e.status === 'Success')!;
    assert.equal(success.outcome, 'pending');
    assert.deepEqual(success.attempts, []);
    assert.ok(waiting.events[0]!.attempts.length >= 2, `the first event, attempted, comes first: ${JSON.stringify(waiting.events)}`);
    assert.deepEqual(
      waiting.events.map((e) => e.id),
      [...waiting.events.map((e) => e.id)].sort((a, b) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1))),
      'in the order they were issued',
    );
    receiver.setDown(false);
    await waitFor(
      async () => receiver.accepted('trust'),
      (events) => events.some((e) => e.status === 'Success'),
      { what: 'the Success hook' },
    );
    const requests = receiver.requests('trust');
    for (const request of requests) {
      assert.equal(request.headers['x-jobservice-signature'], hookSignature(SECRET, request.body), 'signed over the exact body');
      assert.match(String(request.headers['x-jobservice-event-id']), new RegExp(`^${job.id}\\.\\d+\\.\\d+$`));
    }
    // The first event was refused, then delivered: one id throughout.
    const firstId = requests[0]!.headers['x-jobservice-event-id'];
    const sameEvent = requests.filter((r) => r.headers['x-jobservice-event-id'] === firstId);
    assert.ok(sameEvent.length >= 3, `${sameEvent.length} attempts of the first event`);
    assert.deepEqual(
      sameEvent.map((r) => r.answered),
      [...sameEvent.slice(0, -1).map(() => 503), 200],
    );
    const distinct = new Set(requests.filter((r) => r.answered === 200).map((r) => r.headers['x-jobservice-event-id']));
    assert.equal(distinct.size, receiver.accepted('trust').length, 'every delivered event has an id of its own');

    const log = await waitFor(
      async () => (await (await h.request('GET', `/api/v1/jobs/${job.id}/hooks`)).json()) as HookLog,
      (l) => l.events.length > 0 && l.events.every((e) => e.outcome === 'delivered' || e.outcome === 'replaced'),
      { what: 'every event delivered in the hook log' },
    );
    assert.equal(log.job_id, job.id);
    assert.equal(log.status_hook, receiver.url('trust'));
    const first = log.events.find((e) => e.id === firstId)!;
    assert.ok(first, `the log has ${String(firstId)}`);
    assert.deepEqual(
      first.attempts.map((a) => a.http_status),
      sameEvent.map((r) => r.answered),
    );
    assert.match(first.attempts[0]!.error!, /HTTP 503: core is not ready/);
    assert.equal(first.attempts.at(-1)!.error, undefined);
    assert.ok(first.attempts.every((a) => a.at >= job.enqueue_time));
  });

  it('a hook host outside job.hook_allowed_hosts is refused at submit; names, wildcards and CIDRs are allowed', async () => {
    const submit = (status_hook: string) =>
      h.request('POST', '/api/v1/jobs', { job: { name: 'NOOP', parameters: {}, status_hook, metadata: { kind: 'Generic' } } });
    for (const url of ['http://10.1.2.3/hook', 'http://evil.example/hook', 'http://harbor.test.evil.example/x']) {
      const response = await submit(url);
      assert.equal(response.status, 400, url);
      assert.match(((await response.json()) as { description: string }).description, /not in job\.hook_allowed_hosts/);
    }
    for (const url of ['http://core.example/hook', 'http://a.b.harbor.test/hook', receiver.url('allowed')]) {
      assert.equal((await submit(url)).status, 202, url);
    }
  });

  it('GET …/hooks of a job without a status hook is empty; of a periodic job, a 400 pointing at its executions', async () => {
    const plain = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Generic' } });
    const none = (await (await h.request('GET', `/api/v1/jobs/${plain.id}/hooks`)).json()) as HookLog;
    assert.deepEqual(none, { job_id: plain.id, status_hook: null, events: [] });
    const periodic = await h.submit({ name: 'NOOP', parameters: {}, metadata: { kind: 'Periodic', cron_spec: '@yearly' } });
    const response = await h.request('GET', `/api/v1/jobs/${periodic.id}/hooks`);
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { description: string }).description, /executions/);
    await h.client.schedule.getHandle(periodic.id).delete();
    assert.equal((await h.request('GET', '/api/v1/jobs/0123456789abcdef01234567/hooks')).status, 404);
  });
});
