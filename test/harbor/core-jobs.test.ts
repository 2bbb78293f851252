import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deleteSchedules } from '../helpers/schedules.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startHookReceiver, type HookReceiver } from '../helpers/hook-receiver.js';
import { startRawReceiver, type RawReceiver } from '../helpers/raw-receiver.js';
import { waitFor } from '../helpers/wait-for.js';

describe("Harbor core's own jobs: SCHEDULER, WEBHOOK, SLACK", () => {
  let h: Harness;
  let hooks: HookReceiver;
  let raw: RawReceiver;
  const schedules: string[] = [];
  before(async () => {
    h = await createHarness({ config: undefined });
    hooks = await startHookReceiver();
    raw = await startRawReceiver();
  });
  after(async () => {
    await deleteSchedules(h.client, schedules);
    await h.close();
    await hooks.close();
    await raw.close();
  });

  const generic = (name: string, parameters: Record<string, unknown>) => h.submit({ name, parameters, metadata: { kind: 'Generic' } });
  const log = (id: string) => readFileSync(join(h.logDir, `${id}.log`), 'utf8');

  it('SCHEDULER fires every 2 s; each firing checks in its parameters’ JSON, with its own check_in_at, to the status hook', async () => {
    const parameters = { vendor_type: 'GARBAGE_COLLECTION', vendor_id: 7, extra: { b: 2, a: 1 } };
    hooks.setDown(true); // core answers 503 at first: the events wait and arrive in order later
    const job = await h.submit({
      name: 'SCHEDULER',
      parameters,
      status_hook: hooks.url('scheduler'),
      metadata: { kind: 'Periodic', cron_spec: '*/2 * * * * *' },
    });
    schedules.push(job.id);
    await waitFor(
      async () => hooks.refused('scheduler'),
      (n) => n >= 2,
      { timeoutMs: 30_000, what: 'core to refuse the first attempts' },
    );
    hooks.setDown(false);
    const checkIns = await waitFor(
      async () => hooks.accepted('scheduler').filter((e) => e.check_in !== undefined),
      (events) => new Set(events.map((e) => e.job_id)).size >= 3,
      { timeoutMs: 30_000, what: 'three firings’ check-ins' },
    );
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    const perFiring = new Map<string, number>();
    for (const event of checkIns) {
      assert.equal(event.check_in, '{"extra":{"a":1,"b":2},"vendor_id":7,"vendor_type":"GARBAGE_COLLECTION"}');
      assert.match(event.job_id, new RegExp(`^${job.id}@\\d+$`));
      assert.equal(event.metadata.upstream_job_id, job.id);
      assert.equal(event.metadata.name, 'SCHEDULER');
      const at = event.metadata.check_in_at!;
      // A redelivered event is the same event: one check_in_at per firing, never shared.
      if (perFiring.has(event.job_id)) assert.equal(perFiring.get(event.job_id), at);
      perFiring.set(event.job_id, at);
    }
    assert.equal(new Set(perFiring.values()).size, perFiring.size, `check_in_at repeats across firings: ${JSON.stringify([...perFiring])}`);
  });

  it("accepts core's SCHEDULER submit as core marshals it: parameters null, unique false", async () => {
    // models.JobData's `parameters` has no omitempty, and core's scheduler sets none.
    const response = await h.request('POST', '/api/v1/jobs', {
      job: {
        name: 'SCHEDULER',
        parameters: null,
        metadata: { kind: 'Periodic', cron_spec: '0 0 0 1 1 *', unique: false },
        status_hook: hooks.url('core-scheduler'),
      },
    });
    const text = await response.text();
    assert.equal(response.status, 202, text);
    const job = (JSON.parse(text) as { job: { id: string; parameters: unknown; status: string } }).job;
    schedules.push(job.id);
    assert.equal(job.status, 'Scheduled');
    assert.deepEqual(job.parameters, {});
    const generic = await h.request('POST', '/api/v1/jobs', { job: { name: 'NOOP', parameters: null, metadata: { kind: 'Generic' } } });
    assert.equal(generic.status, 202, await generic.text());

    // Core's unschedule stops the job and waits for its Stopped hook (its SCHEDULER execution stays Running until then).
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    const stopped = await waitFor(
      async () => hooks.accepted('core-scheduler').filter((e) => e.job_id === job.id),
      (events) => events.length >= 1,
      { timeoutMs: 30_000, what: "the periodic job's Stopped hook" },
    );
    assert.equal(stopped[0]!.status, 'Stopped');
    assert.equal(stopped[0]!.metadata.kind, 'Periodic');
    assert.equal(stopped[0]!.metadata.name, 'SCHEDULER');
    // A second stop changes nothing and sends nothing more.
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    const before = hooks.accepted('core-scheduler').length;
    await h.waitForStatus(job.id, ['Stopped']);
    assert.equal(hooks.accepted('core-scheduler').filter((e) => e.job_id === job.id).length, 1);
    assert.equal(hooks.accepted('core-scheduler').length, before);
  });

  it('a stop repeated after one that marked the job Stopped but never started its hook still sends the hook, once', async () => {
    const job = await h.submit({
      name: 'SCHEDULER',
      parameters: { policy_id: 7 },
      status_hook: hooks.url('core-interrupted'),
      metadata: { kind: 'Periodic', cron_spec: '0 0 0 1 1 *' },
    });
    schedules.push(job.id);
    // The API loses Temporal (or is killed) between the schedule's update and the hook's start.
    const workflows = h.client.workflow;
    const start = workflows.start.bind(workflows);
    let injected = false;
    (workflows as { start: unknown }).start = async (type: never, options: { workflowId: string }) => {
      if (!injected && options.workflowId.endsWith('-hooks-stopped')) {
        injected = true;
        throw new Error('14 UNAVAILABLE: injected between the two steps of the stop');
      }
      return start(type, options as never);
    };
    try {
      const first = await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' });
      assert.ok(injected);
      assert.notEqual(first.status, 204);
    } finally {
      (workflows as { start: unknown }).start = start;
    }
    assert.equal((await h.stats(job.id)).status, 'Stopped');
    // Core repeats the stop, as it does after an error.
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    const stopped = await waitFor(
      async () => hooks.accepted('core-interrupted').filter((e) => e.job_id === job.id),
      (events) => events.length >= 1,
      { timeoutMs: 30_000, what: 'the Stopped hook after the repeated stop' },
    );
    assert.equal(stopped[0]!.status, 'Stopped');
    // A third stop sends nothing more.
    assert.equal((await h.request('POST', `/api/v1/jobs/${job.id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(job.id, ['Stopped']);
    assert.equal(hooks.accepted('core-interrupted').filter((e) => e.job_id === job.id).length, 1);
  });

  it('accepts the legacy names of the scheduler job as the same job', async () => {
    for (const name of ['IMAGE_REPLICATE', 'IMAGE_GC', 'IMAGE_SCAN_ALL']) {
      const job = await generic(name, { policy_id: 1 });
      const done = await h.waitForStatus(job.id, ['Success', 'Error']);
      assert.equal(done.status, 'Success');
      assert.equal(done.check_in, '{"policy_id":1}');
    }
  });

  it('WEBHOOK posts the payload as is with core’s headers, and logs it without header values', async () => {
    const payload = '{"type":"PUSH_ARTIFACT","occur_at":1700000000,"event_data":{"repository":{"name":"app"}}}';
    const header = JSON.stringify({
      'Content-Type': ['application/json'],
      Authorization: ['Bearer s3cr3t-token'],
      'X-Multi': ['one', 'two'],
      'X-Note': ['Zürich 日本'],
    });
    const job = await generic('WEBHOOK', { address: raw.url('webhook?token=abc'), payload, header, skip_cert_verify: false });
    const done = await h.waitForStatus(job.id, ['Success', 'Error']);
    assert.equal(done.status, 'Success', done.last_error);
    const [request] = raw.requests('webhook?token=abc');
    assert.equal(request?.method, 'POST');
    assert.equal(request?.body, payload);
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.headers.authorization, 'Bearer s3cr3t-token');
    assert.equal(request?.headers['x-multi'], 'one, two');
    // As Go sends a header: its UTF-8 bytes (Node's server reads them as Latin-1).
    assert.equal(Buffer.from(String(request?.headers['x-note']), 'latin1').toString('utf8'), 'Zürich 日本');
    const text = log(job.id);
    assert.ok(text.includes(payload), 'the payload is logged');
    assert.ok(!text.includes('s3cr3t-token'), 'header values are not');
    assert.ok(!text.includes('token=abc'), 'query values are not');
    // Nor do the job's stats, its list row or its memo show the Authorization header core sent as JSON text.
    const stats = JSON.stringify(await h.stats(job.id));
    assert.ok(stats.includes('X-Multi'), `the header is shown: ${stats}`);
    assert.ok(!stats.includes('s3cr3t-token'), `stats show the Authorization header: ${stats}`);
    const list = await (await h.request('GET', '/api/v1/jobs?name=WEBHOOK&page_size=100')).text();
    assert.ok(list.includes(job.id) && !list.includes('s3cr3t-token'), 'the list row hides it too');
    const { memo } = await h.client.workflow.getHandle(job.id).describe();
    assert.ok(!JSON.stringify(memo).includes('s3cr3t-token'), 'the workflow memo (the Web UI) hides it too');
  });

  it('WEBHOOK takes the auth_header of cores before Harbor 2.8 as their job did: Authorization and JSON, hidden in stats', async () => {
    const job = await generic('WEBHOOK', {
      address: raw.url('legacy'),
      payload: '{"type":"DELETE_ARTIFACT"}',
      auth_header: 'Basic bGVnYWN5OnNlY3JldA==',
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error']);
    assert.equal(done.status, 'Success', done.last_error);
    const [request] = raw.requests('legacy');
    assert.equal(request?.headers.authorization, 'Basic bGVnYWN5OnNlY3JldA==');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.ok(!JSON.stringify(await h.stats(job.id)).includes('bGVnYWN5OnNlY3JldA=='), 'stats hide it');
    assert.ok(!log(job.id).includes('bGVnYWN5OnNlY3JldA=='), 'the log hides it');
    const refused = await h.request('POST', '/api/v1/jobs', {
      job: { name: 'SLACK', metadata: { kind: 'Generic' }, parameters: { address: raw.url('slack'), payload: 'p', auth_header: 'x' } },
    });
    assert.equal(refused.status, 400);
  });

  it('WEBHOOK succeeds after two failed attempts, and ends Error with the status in last_error when the receiver keeps failing', async () => {
    raw.failNext(2, 502);
    const retried = await generic('WEBHOOK', { address: raw.url('flaky'), payload: 'hello' });
    const ok = await h.waitForStatus(retried.id, ['Success', 'Error'], 30_000);
    assert.equal(ok.status, 'Success', ok.last_error);
    assert.equal(ok.fails, 2);
    assert.equal(raw.requests('flaky').length, 3);

    raw.failAlways(418);
    try {
      const doomed = await generic('WEBHOOK', { address: raw.url('teapot'), payload: 'hello' });
      const failed = await h.waitForStatus(doomed.id, ['Success', 'Error'], 30_000);
      assert.equal(failed.status, 'Error');
      assert.equal(failed.fails, 3);
      assert.match(failed.last_error ?? '', /answered 418: refused with 418/);
      assert.equal(raw.requests('teapot').length, 3);
    } finally {
      raw.failAlways(undefined);
    }
  });

  it('SLACK posts JSON and then waits a second for Slack’s rate limit', async () => {
    const payload = '{"text":"artifact pushed"}';
    const job = await generic('SLACK', { address: raw.url('slack'), payload });
    const done = await h.waitForStatus(job.id, ['Success', 'Error']);
    assert.equal(done.status, 'Success', done.last_error);
    const [request] = raw.requests('slack');
    assert.equal(request?.body, payload);
    assert.equal(request?.headers['content-type'], 'application/json');
    const run = await h.client.workflow.getHandle(job.id).describe();
    const took = (run.closeTime ?? new Date()).getTime() - request!.at;
    assert.ok(took >= 1000, `the job ended ${took} ms after it posted`);
  });

  for (const [label, name, parameters, mentions] of [
    ['an address that is not http(s)', 'WEBHOOK', { address: 'ftp://x/y', payload: 'p' }, /address/],
    ['a payload that is not a string', 'WEBHOOK', { address: 'http://127.0.0.1:1/x', payload: { a: 1 } }, /payload/],
    ['a header that is not JSON', 'WEBHOOK', { address: 'http://127.0.0.1:1/x', payload: 'p', header: 'Content-Type: x' }, /header/],
    ['header values that are not lists', 'WEBHOOK', { address: 'http://127.0.0.1:1/x', payload: 'p', header: '{"A":"b"}' }, /header/],
    [
      'a header value with a line break',
      'WEBHOOK',
      { address: 'http://127.0.0.1:1/x', payload: 'p', header: JSON.stringify({ 'X-A': ['a\r\nX-Injected: 1'] }) },
      /header.*control character/,
    ],
    [
      'skip_cert_verify as a string',
      'SLACK',
      { address: 'https://hooks.example/x', payload: 'p', skip_cert_verify: 'yes' },
      /skip_cert_verify/,
    ],
    ['a missing address', 'SLACK', { payload: 'p' }, /address/],
    [
      'an auth_header with a line break',
      'WEBHOOK',
      { address: 'http://127.0.0.1:1/x', payload: 'p', auth_header: 'Bearer a\r\nX-Injected: 1' },
      /auth_header.*control character/,
    ],
    [
      'an auth_header for SLACK, which core never sent it',
      'SLACK',
      { address: 'https://hooks.example/x', payload: 'p', auth_header: 'Bearer a' },
      /auth_header/,
    ],
  ] as const) {
    it(`POST /jobs ${name}: ${label} → 400 naming the field`, async () => {
      const response = await h.request('POST', '/api/v1/jobs', { job: { name, parameters, metadata: { kind: 'Generic' } } });
      const body = (await response.json()) as { code: number; description: string };
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(body.code, 10013);
      assert.match(body.description, mentions);
    });
  }
});

interface Hit {
  path: string;
  body: string;
  at: number;
}

/**
 * A receiver that answers each path as the test says: a status (and headers), then its body at
 * once, after `bodyAfterMs`, or `trickle` (a byte a second for 20 s).
 */
async function scriptedReceiver(
  answer: (path: string) => { status: number; headers?: Record<string, string>; bodyAfterMs?: number; trickle?: boolean },
) {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      hits.push({ path, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const { status, headers, bodyAfterMs, trickle } = answer(path);
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.flushHeaders();
      if (trickle) {
        let n = 0;
        const timer = setInterval(() => {
          if (res.destroyed || ++n > 20) {
            clearInterval(timer);
            res.end();
          } else res.write('.');
        }, 1000);
      } else setTimeout(() => res.end(`answered ${status}`), bodyAfterMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}/${path}`,
    hits: (path: string) => hits.filter((x) => x.path === `/${path}`),
    all: hits,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('WEBHOOK and SLACK as Go’s http.Client sends them (Harbor’s notification jobs)', () => {
  let h: Harness;
  let rx: Awaited<ReturnType<typeof scriptedReceiver>>;
  before(async () => {
    h = await createHarness({ config: undefined });
    rx = await scriptedReceiver((path) => {
      if (path === '/slow') return { status: 200, bodyAfterMs: 5000 };
      if (path === '/trickle') return { status: 200, trickle: true };
      if (path === '/limited') return { status: 429 };
      if (path === '/moved') return { status: 308, headers: { location: '/here' } };
      if (path === '/loop') return { status: 307, headers: { location: '/loop' } };
      return { status: 200 };
    });
  });
  after(async () => {
    await h.close();
    await rx.close();
  });
  const generic = (name: string, parameters: Record<string, unknown>) => h.submit({ name, parameters, metadata: { kind: 'Generic' } });

  it('a 2xx is delivered at its status line: a body that comes late or trickles is neither waited on nor re-sent', async () => {
    const slow = await generic('WEBHOOK', { address: rx.url('slow'), payload: '{}' });
    const trickle = await generic('SLACK', { address: rx.url('trickle'), payload: '{}' });
    // Harbor's 3 s client timeout would also bound a wait on the body: neither job may take the 20 s the trickle does.
    const [slowDone, trickleDone] = await Promise.all([
      h.waitForStatus(slow.id, ['Success', 'Error'], 15_000),
      h.waitForStatus(trickle.id, ['Success', 'Error'], 15_000),
    ]);
    assert.deepEqual([slowDone.status, rx.hits('slow').length], ['Success', 1], slowDone.last_error);
    assert.deepEqual([trickleDone.status, rx.hits('trickle').length], ['Success', 1], trickleDone.last_error);
  });

  it('SLACK keeps its second’s pause after a refused post too: the next message does not follow a 429 at once', async () => {
    const a = await generic('SLACK', { address: rx.url('limited'), payload: '{"text":"a"}' });
    const b = await generic('SLACK', { address: rx.url('fine'), payload: '{"text":"b"}' });
    assert.equal((await h.waitForStatus(b.id, ['Success', 'Error'], 30_000)).status, 'Success');
    assert.equal((await h.waitForStatus(a.id, ['Success', 'Error'], 30_000)).status, 'Error');
    const times = [...rx.hits('limited'), ...rx.hits('fine')].sort((x, y) => x.at - y.at);
    const gaps = times.slice(1).map((t, i) => ({ from: times[i]!.path, to: t.path, ms: t.at - times[i]!.at }));
    assert.deepEqual(
      gaps.filter((g) => g.ms < 900),
      [],
      `Slack posts less than a second apart: ${JSON.stringify(gaps)}`,
    );
  });

  it('follows a 307/308 redirect with the same POST, and gives up after ten', async () => {
    const moved = await generic('WEBHOOK', { address: rx.url('moved'), payload: '{"type":"PUSH_ARTIFACT"}' });
    const done = await h.waitForStatus(moved.id, ['Success', 'Error'], 30_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.deepEqual(
      rx.hits('here').map((x) => x.body),
      ['{"type":"PUSH_ARTIFACT"}'],
    );
    const loop = await generic('WEBHOOK', { address: rx.url('loop'), payload: '{}' });
    const looped = await h.waitForStatus(loop.id, ['Success', 'Error'], 60_000);
    assert.equal(looped.status, 'Error');
    assert.match(looped.last_error ?? '', /10 redirects/);
  });
});
