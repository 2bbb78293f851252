import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import { createHarness, TEST_SECRET, testConfig, type Harness } from '../helpers/harness.js';

type Case = {
  name: string;
  method?: string;
  path?: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  code: number;
  mentions?: RegExp;
};

const job = (overrides: Record<string, unknown> = {}, metadata: Record<string, unknown> = { kind: 'Generic' }) => ({
  job: { name: 'DEMO', parameters: { image: 'demo-x' }, metadata, ...overrides },
});

const submitCases: Case[] = [
  { name: 'malformed JSON', body: '{"job": {', status: 400, code: 10001, mentions: /JSON/ },
  { name: 'JSON that is not an object', body: '[1,2]', status: 400, code: 10013 },
  { name: 'empty body', body: '', status: 400, code: 10001 },
  {
    name: 'wrong content type',
    body: JSON.stringify(job()),
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 10013,
  },
  { name: 'missing job', body: {}, status: 400, code: 10013, mentions: /job/ },
  { name: 'unknown top-level field', body: { ...job(), extra: 1 }, status: 400, code: 10013, mentions: /extra/ },
  { name: 'unknown job field', body: job({ priority: 3 }), status: 400, code: 10013, mentions: /priority/ },
  { name: 'unknown metadata field', body: job({}, { kind: 'Generic', retries: 3 }), status: 400, code: 10013, mentions: /retries/ },
  { name: 'missing name', body: { job: { parameters: {}, metadata: { kind: 'Generic' } } }, status: 400, code: 10013, mentions: /name/ },
  { name: 'empty name', body: job({ name: '' }), status: 400, code: 10013, mentions: /name/ },
  { name: 'name of the wrong type', body: job({ name: 42 }), status: 400, code: 10013, mentions: /name/ },
  {
    name: 'missing metadata',
    body: { job: { name: 'DEMO', parameters: { image: 'demo' } } },
    status: 400,
    code: 10013,
    mentions: /metadata/,
  },
  { name: 'unknown kind', body: job({}, { kind: 'Sometimes' }), status: 400, code: 10013, mentions: /kind/ },
  { name: 'lower-case kind', body: job({}, { kind: 'generic' }), status: 400, code: 10013, mentions: /kind/ },
  { name: 'unique of the wrong type', body: job({}, { kind: 'Generic', unique: 'yes' }), status: 400, code: 10013, mentions: /unique/ },
  { name: 'parameters as an array', body: job({ parameters: [1] }), status: 400, code: 10013, mentions: /parameters/ },
  { name: 'unknown job name', body: job({ name: 'NO_SUCH_JOB' }), status: 400, code: 10013, mentions: /NO_SUCH_JOB/ },
  { name: 'parameters failing the job schema', body: job({ parameters: { image: 'nginx' } }), status: 400, code: 10013, mentions: /demo/ },
  {
    name: 'parameters with an unknown key',
    body: job({ parameters: { image: 'demo', colour: 'red' } }),
    status: 400,
    code: 10013,
    mentions: /colour/,
  },
  {
    name: 'parameters of the wrong type',
    body: job({ parameters: { image: 'demo', step_ms: 'slow' } }),
    status: 400,
    code: 10013,
    mentions: /step_ms/,
  },
  { name: 'Scheduled without a delay', body: job({}, { kind: 'Scheduled' }), status: 400, code: 10013, mentions: /schedule_delay/ },
  {
    name: 'Scheduled with a zero delay',
    body: job({}, { kind: 'Scheduled', schedule_delay: 0 }),
    status: 400,
    code: 10013,
    mentions: /schedule_delay/,
  },
  {
    name: 'negative delay',
    body: job({}, { kind: 'Scheduled', schedule_delay: -5 }),
    status: 400,
    code: 10013,
    mentions: /schedule_delay/,
  },
  {
    name: 'fractional delay',
    body: job({}, { kind: 'Scheduled', schedule_delay: 1.5 }),
    status: 400,
    code: 10013,
    mentions: /schedule_delay/,
  },
  {
    name: 'absurd delay',
    body: job({}, { kind: 'Scheduled', schedule_delay: 1e12 }),
    status: 400,
    code: 10013,
    mentions: /schedule_delay/,
  },
  {
    name: 'delay as a string',
    body: job({}, { kind: 'Scheduled', schedule_delay: '90' }),
    status: 400,
    code: 10013,
    mentions: /schedule_delay/,
  },
  { name: 'status hook that is not a URL', body: job({ status_hook: 'not a url' }), status: 400, code: 10013, mentions: /status_hook/ },
  {
    name: 'status hook with another scheme',
    body: job({ status_hook: 'file:///etc/passwd' }),
    status: 400,
    code: 10013,
    mentions: /status_hook/,
  },
  {
    name: 'status hook with credentials in it',
    body: job({ status_hook: 'http://core:hunter2@127.0.0.1:9/hook' }),
    status: 400,
    code: 10013,
    mentions: /status_hook.*no credentials/,
  },
  { name: 'Periodic without a cron spec', body: job({}, { kind: 'Periodic' }), status: 400, code: 10013, mentions: /cron_spec/ },
  {
    name: 'Periodic with a malformed cron spec',
    body: job({}, { kind: 'Periodic', cron_spec: '0 0 * *' }),
    status: 400,
    code: 10013,
    mentions: /cron_spec/,
  },
  {
    name: 'Periodic @every longer than fifty years (it would never fire)',
    body: job({}, { kind: 'Periodic', cron_spec: '@every 1000000h' }),
    status: 400,
    code: 10013,
    mentions: /@every.*50 years/,
  },
  {
    name: 'Periodic with L in day-of-month',
    body: job({}, { kind: 'Periodic', cron_spec: '0 0 0 L * *' }),
    status: 400,
    code: 10013,
    mentions: /day-of-month/,
  },
  {
    name: 'Periodic with Quartz #',
    body: job({}, { kind: 'Periodic', cron_spec: '0 0 9 * * MON#2' }),
    status: 400,
    code: 10013,
    mentions: /day-of-week/,
  },
  {
    name: 'Periodic with an out-of-range hour',
    body: job({}, { kind: 'Periodic', cron_spec: '0 0 25 * * *' }),
    status: 400,
    code: 10013,
    mentions: /hour/,
  },
  {
    name: 'Periodic with an unknown time zone',
    body: job({}, { kind: 'Periodic', cron_spec: '@daily', timezone: 'Mars/Olympus' }),
    status: 400,
    code: 10013,
    mentions: /timezone/,
  },
  {
    name: 'Periodic with a time zone in the wrong case (Go on the server reads names as spelt)',
    body: job({}, { kind: 'Periodic', cron_spec: '@daily', timezone: 'america/new_york' }),
    status: 400,
    code: 10013,
    mentions: /timezone.*America\/New_York/,
  },
  {
    name: 'Periodic with a time zone alias in the wrong case, which only the server refuses',
    body: job({}, { kind: 'Periodic', cron_spec: '@daily', timezone: 'us/pacific' }),
    status: 400,
    code: 10013,
    mentions: /time zone/,
  },
  {
    name: 'Periodic with an unknown concurrency policy',
    body: job({}, { kind: 'Periodic', cron_spec: '@daily', concurrency_policy: 'Sometimes' }),
    status: 400,
    code: 10013,
    mentions: /concurrency_policy/,
  },
  {
    name: 'Periodic with a starting deadline under 10 s',
    body: job({}, { kind: 'Periodic', cron_spec: '@daily', starting_deadline_seconds: 5 }),
    status: 400,
    code: 10013,
    mentions: /starting_deadline_seconds/,
  },
  {
    name: 'Periodic with a negative history limit',
    body: job({}, { kind: 'Periodic', cron_spec: '@daily', successful_jobs_history_limit: -1 }),
    status: 400,
    code: 10013,
    mentions: /successful_jobs_history_limit/,
  },
  {
    name: 'Periodic with a history limit beyond what is pruned',
    body: job({}, { kind: 'Periodic', cron_spec: '@daily', failed_jobs_history_limit: 100000 }),
    status: 400,
    code: 10013,
    mentions: /failed_jobs_history_limit/,
  },
  {
    name: 'Periodic with a fractional history limit',
    body: job({}, { kind: 'Periodic', cron_spec: '@daily', failed_jobs_history_limit: 1.5 }),
    status: 400,
    code: 10013,
    mentions: /failed_jobs_history_limit/,
  },
  {
    name: 'history limits on a Scheduled job',
    body: job({}, { kind: 'Scheduled', schedule_delay: 5, successful_jobs_history_limit: 3 }),
    status: 400,
    code: 10013,
    mentions: /successful_jobs_history_limit/,
  },
  {
    // Deeper still (a few thousand levels, a few kilobytes) overflowed the stack in redaction and in
    // Temporal's payload converter: a 500. SCHEDULER takes any parameters, so only the depth refuses these.
    name: 'parameters nested 100 levels deep',
    body: {
      job: {
        name: 'SCHEDULER',
        parameters: { deep: JSON.parse('['.repeat(100) + ']'.repeat(100)) as unknown },
        metadata: { kind: 'Generic' },
      },
    },
    status: 400,
    code: 10013,
    mentions: /parameters.*nest deeper than 64 levels/,
  },
  {
    name: 'parameters holding JSON text nested 100 levels deep',
    body: { job: { name: 'SCHEDULER', parameters: { deep: '['.repeat(100) + ']'.repeat(100) }, metadata: { kind: 'Generic' } } },
    status: 400,
    code: 10013,
    mentions: /parameters.*nest deeper than 64 levels/,
  },
  {
    name: 'CronJob options on a Generic job',
    body: job({}, { kind: 'Generic', suspend: true }),
    status: 400,
    code: 10013,
    mentions: /suspend/,
  },
];

// In process, Hono reads a Request; served, the body comes off Node's socket (request-body.ts).
for (const served of [false, true]) {
  describe(`bad input gets a 4xx JSON error, never a 500 or a half-created job (${served ? 'served over HTTP' : 'in process'})`, () => {
    let h: Harness;
    before(async () => {
      h = await createHarness({ worker: false, served, config: testConfig({ max_body_bytes: 4096 }) });
    });
    after(async () => {
      await h.close();
    });

    const expectError = async (response: Response, expected: Case) => {
      const text = await response.text();
      assert.equal(response.status, expected.status, `${expected.name}: ${text}`);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      const body = JSON.parse(text) as { code: number; err: string; description?: string };
      assert.equal(body.code, expected.code, `${expected.name}: ${text}`);
      assert.equal(typeof body.err, 'string');
      if (expected.mentions) assert.match(body.description ?? '', expected.mentions, `${expected.name}: ${text}`);
    };

    for (const c of submitCases) {
      it(`POST /jobs: ${c.name} → ${c.status}`, async () => {
        const response = await h.request(c.method ?? 'POST', c.path ?? '/api/v1/jobs', c.body, c.headers);
        await expectError(response, c);
      });
    }

    it('POST /jobs: a body over the size limit → 413', async () => {
      const huge = job({ parameters: { image: 'demo', padding: 'x'.repeat(10_000) } });
      await expectError(await h.request('POST', '/api/v1/jobs', huge), { name: 'huge', status: 413, code: 10000 });
    });

    it('POST /jobs: a body over the size limit sent in chunks, with no length declared → 413', async () => {
      const chunk = new TextEncoder().encode(`{"job":{"name":"DEMO","parameters":{"padding":"${'x'.repeat(1000)}`);
      let sent = 0;
      // Ten chunks of about 1 KB against the 4 KB limit: the reader has to count, not trust a header.
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 10) controller.enqueue(chunk);
          else controller.close();
        },
      });
      await expectError(await h.request('POST', '/api/v1/jobs', body), { name: 'chunked', status: 413, code: 10000 });
    });

    if (served) {
      it('POST /jobs: a client that goes away halfway through its body leaves the API answering', async () => {
        const { hostname, port } = new URL(h.url!);
        await new Promise<void>((resolve, reject) => {
          const socket = connect(Number(port), hostname, () => {
            socket.write(
              `POST /api/v1/jobs HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Harbor-Secret ${TEST_SECRET}\r\n` +
                'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"job":{"name":"DEMO"',
              () => socket.destroy(),
            );
          });
          socket.on('close', () => resolve());
          socket.on('error', reject);
        });
        await expectError(await h.request('POST', '/api/v1/jobs', job({ name: 'NO_SUCH_JOB' })), {
          name: 'after an abandoned body',
          status: 400,
          code: 10013,
        });
      });
    }

    it('creates no job for any rejected submission', async () => {
      const { count } = await h.client.workflow.count(`TaskQueue = '${h.config.temporal.task_queue}'`);
      assert.equal(count, 0);
    });

    const badIds = [
      ['too short', 'abc123'],
      ['upper case', 'ABCDEFABCDEFABCDEFABCDEF'],
      ['non-hex', 'zzzzzzzzzzzzzzzzzzzzzzzz'],
      ['path traversal', '..%2F..%2Fetc%2Fpasswd'],
      ['25 characters', 'aaaaaaaaaaaaaaaaaaaaaaaaa'],
    ] as const;
    for (const [label, id] of badIds) {
      for (const [method, suffix, body] of [
        ['GET', '', undefined],
        ['POST', '', { action: 'stop' }],
        ['GET', '/log', undefined],
      ] as const) {
        it(`${method} /jobs/{id}${suffix}: id ${label} → 400`, async () => {
          const response = await h.request(method, `/api/v1/jobs/${id}${suffix}`, body);
          await expectError(response, { name: label, status: 400, code: 10013, mentions: /24 lowercase hex/ });
        });
      }
    }

    it('encoded dot segments are resolved by URL parsing and match no route → 404', async () => {
      for (const path of ['/api/v1/jobs/%2E%2E', '/api/v1/jobs/%2e%2e/log']) {
        const response = await h.request('GET', path);
        assert.notEqual(response.status, 200, path);
        assert.ok(response.status >= 400 && response.status < 500, `${path} → ${response.status}`);
      }
    });

    it('GET /jobs/{id}: an unknown well-formed id → 404', async () => {
      await expectError(await h.request('GET', '/api/v1/jobs/0123456789abcdef01234567'), {
        name: 'unknown id',
        status: 404,
        code: 10010,
      });
    });

    it('POST /jobs/{id}: stop of an unknown id → 404', async () => {
      const response = await h.request('POST', '/api/v1/jobs/0123456789abcdef01234567', { action: 'stop' });
      await expectError(response, { name: 'unknown id', status: 404, code: 10010 });
    });

    it('GET /jobs/{id}/log: unknown id → 404', async () => {
      const response = await h.request('GET', '/api/v1/jobs/0123456789abcdef01234567/log');
      await expectError(response, { name: 'unknown log', status: 404, code: 10010 });
    });

    for (const [label, body, status, code] of [
      ['unknown action', { action: 'explode' }, 501, 10008],
      ['action of the wrong type', { action: 7 }, 400, 10013],
      ['missing action', {}, 400, 10013],
      ['unknown field', { action: 'stop', force: true }, 400, 10013],
      ['malformed JSON', '{"action":', 400, 10001],
    ] as const) {
      it(`POST /jobs/{id}: ${label} → ${status}`, async () => {
        const response = await h.request('POST', '/api/v1/jobs/0123456789abcdef01234567', body);
        await expectError(response, { name: label, status, code });
      });
    }

    // The description names the query parameter at fault, as a query's, not the body's.
    for (const [label, query, mentions] of [
      ['unknown status', 'status=Done', /^query status: /],
      ['unknown kind', 'kind=Daily', /^query kind: /],
      ['page_size zero', 'page_size=0', /^query page_size: /],
      ['page_size too large', 'page_size=5000', /^query page_size: /],
      ['page_number not a number', 'page_number=two', /^query page_number: /],
      ['cursor not a number', 'cursor=abc', /^query cursor: .*Next-Cursor/],
      ['cursor negative', 'cursor=-1', /^query cursor: /],
      ['unknown query parameter', 'sort=asc', /^query: .*sort/],
      ['name with quotes', "name=DEMO'%20OR%20'1'='1", /^query name: /],
    ] as const) {
      it(`GET /jobs: ${label} → 400`, async () => {
        await expectError(await h.request('GET', `/api/v1/jobs?${query}`), { name: label, status: 400, code: 10013, mentions });
      });
    }

    it('unknown routes answer 404 with the secret', async () => {
      for (const [method, path] of [
        ['GET', '/api/v1/nothing'],
        ['DELETE', '/api/v1/jobs/0123456789abcdef01234567'],
        ['GET', '/'],
      ] as const) {
        await expectError(await h.request(method, path), { name: path, status: 404, code: 10010 });
      }
    });
  });
}
