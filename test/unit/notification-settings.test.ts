import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { describe, it } from 'node:test';
import { postOnce } from '../../src/jobs/harbor/http-post.js';
import { waitFor } from '../helpers/wait-for.js';
import { notificationSettings, slackJob, webhookJob } from '../../src/jobs/harbor/notification-jobs.js';
import { createJobRegistry } from '../../src/jobs/job-registry.js';

/** Listens on a free loopback port; resolves with it. */
async function listening(server: { listen(port: number, host: string, done: () => void): unknown; address(): unknown }): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe("WEBHOOK and SLACK settings, read from Harbor core's environment names as Harbor reads them", () => {
  const read = (retries?: string, timeout?: string) =>
    notificationSettings({ JOBSERVICE_WEBHOOK_JOB_MAX_RETRY: retries, JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT: timeout });

  it('takes the defaults (3 runs, 3 s) when unset or unreadable', () => {
    for (const [retries, timeout] of [
      [undefined, undefined],
      ['abc', '1.5'],
      ['-1', 'soon'],
      ['', ''],
    ] as const) {
      const settings = read(retries, timeout);
      assert.deepEqual([settings.maxFails, settings.timeoutSeconds], [3, 3], `${retries} / ${timeout}`);
    }
  });

  it("waits 16 s before a failed WEBHOOK or SLACK is retried, doubling after, as gocraft's shortest wait (it was 1 s, then 2 s)", () => {
    const settings = read();
    assert.equal(settings.retryInitialMs, 16_000);
    const registry = createJobRegistry([webhookJob(settings), slackJob(settings)]);
    for (const name of ['WEBHOOK', 'SLACK']) {
      const { retry } = registry.startPolicy(name, {});
      assert.equal(retry?.initialIntervalMs, 16_000, name);
    }
  });

  it('takes a retry count as given, and 0 as gocraft’s default of 4', () => {
    assert.equal(read('5').maxFails, 5);
    assert.equal(read('1').maxFails, 1);
    assert.equal(read('0').maxFails, 4);
  });

  it('takes 0 or a negative timeout as none, as Go’s HTTP client does, and WEBHOOK is then no short job', () => {
    assert.equal(read(undefined, '10').timeoutSeconds, 10);
    assert.equal(read(undefined, '0').timeoutSeconds, undefined);
    assert.equal(read(undefined, '-3').timeoutSeconds, undefined);
    // Go takes 25 days; Node's timers would fire at once: none.
    assert.equal(read(undefined, '2147484').timeoutSeconds, undefined);
    assert.equal(read(undefined, '2147483').timeoutSeconds, 2147483);
    assert.equal(webhookJob(read(undefined, '0')).short, undefined);
  });

  it("WEBHOOK is a short job only under a short timeout (Harbor's 3 s): a longer POST would read Pending and keep a stop waiting", () => {
    assert.deepEqual(webhookJob(read(undefined, '3')).short, { capMs: 8_000 });
    assert.deepEqual(webhookJob(read(undefined, '5')).short, { capMs: 10_000 });
    assert.equal(webhookJob(read(undefined, '6')).short, undefined);
    assert.equal(webhookJob(read(undefined, '30')).short, undefined);
  });

  it('a POST without a timeout waits for a slow answer', async () => {
    const server = createServer((_req, res) => setTimeout(() => res.writeHead(200).end('ok'), 300));
    const port = await listening(server);
    try {
      const answer = await postOnce(`http://127.0.0.1:${port}/hook`, '{}', {}, { timeoutMs: undefined, proxies: {} });
      assert.equal(answer.status, 200);
    } finally {
      server.close();
    }
  });

  it('a deadline past Node’s longest timer is none, not one that fires at once', async () => {
    const server = createServer((_req, res) => setTimeout(() => res.writeHead(200).end('ok'), 200));
    const port = await listening(server);
    try {
      const answer = await postOnce(`http://127.0.0.1:${port}/hook`, '{}', {}, { timeoutMs: 2147484 * 1000, proxies: {} });
      assert.equal(answer.status, 200);
    } finally {
      server.close();
    }
  });

  it('a pre-2.8 core’s empty auth_header: JSON, as its job sent, and no Authorization', async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.writeHead(200).end();
    });
    const port = await listening(server);
    try {
      const job = webhookJob(read());
      const params = job.params.parse({ address: `http://127.0.0.1:${port}/hook`, payload: '{}', auth_header: '' });
      const logger = { debug() {}, info() {}, warning() {}, error() {} };
      await job.run({ logger, signal: new AbortController().signal } as never, params);
      assert.equal(seen[0]?.['content-type'], 'application/json');
      assert.equal(seen[0]?.authorization, undefined);
    } finally {
      server.close();
    }
  });

  it('framing headers in core’s header map (Content-Length, Transfer-Encoding, Host, …) are the client’s own, as in Go: no second request rides on the payload', async () => {
    const payload = 'DELETE /api/internal/everything HTTP/1.1\r\nHost: internal\r\n\r\n';
    let received = '';
    const server = createTcpServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (data) => {
        const first = received === '';
        received += data.toString('latin1');
        if (first) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      });
    });
    const port = await listening(server);
    try {
      const headers = {
        'Content-Length': ['0'],
        'Transfer-Encoding': ['chunked'],
        Host: ['elsewhere'],
        Connection: ['upgrade'],
        'X-Kept': ['yes'],
      };
      const answer = await postOnce(`http://127.0.0.1:${port}/hook`, payload, headers, { timeoutMs: 5000, proxies: {} });
      assert.equal(answer.status, 200);
      await waitFor(
        async () => received,
        (text) => text.endsWith(payload),
        { what: 'the whole payload' },
      );
      // One request whose body is the payload whole: the receiver reads no second request in it.
      const [head, ...rest] = received.split('\r\n\r\n');
      assert.equal(rest.join('\r\n\r\n'), payload);
      assert.match(head!, /^POST \/hook HTTP\/1\.1\r\n/);
      assert.match(head!, new RegExp(`content-length: ${Buffer.byteLength(payload)}(\r\n|$)`, 'im'));
      assert.match(head!, new RegExp(`host: 127\\.0\\.0\\.1:${port}(\r\n|$)`, 'im'));
      assert.match(head!, /x-kept: yes/i);
      assert.doesNotMatch(head!, /transfer-encoding|elsewhere|upgrade/i);
    } finally {
      server.close();
    }
  });

  it('a redirect to another host name takes no credentials along (Authorization, Cookie), as Go’s client does; another port of the same name does', async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const other = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      res.writeHead(200).end();
    });
    const otherPort = await listening(other);
    const first = createServer((req, res) => {
      req.resume();
      res.writeHead(307, { location: `http://${req.url === '/same-name' ? '127.0.0.1' : 'localhost'}:${otherPort}/there` }).end();
    });
    const port = await listening(first);
    try {
      const headers = { Authorization: ['Bearer t0ken'], Cookie: ['sid=1'], 'X-Kept': ['yes'] };
      assert.equal((await postOnce(`http://127.0.0.1:${port}/here`, '{}', headers, { timeoutMs: 5000, proxies: {} })).status, 200);
      assert.equal(seen[0]?.['x-kept'], 'yes');
      assert.equal(seen[0]?.authorization, undefined);
      assert.equal(seen[0]?.cookie, undefined);
      // The same host name on another port keeps them, as in Go.
      assert.equal((await postOnce(`http://127.0.0.1:${port}/same-name`, '{}', headers, { timeoutMs: 5000, proxies: {} })).status, 200);
      assert.equal(seen[1]?.authorization, 'Bearer t0ken');
      assert.equal(seen[1]?.cookie, 'sid=1');
    } finally {
      first.close();
      other.close();
    }
  });
});
