import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveApi, type RunningApi } from '../../src/api/serve-app.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, TEST_SECRET, testConfig, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';

/** A self-signed certificate for 127.0.0.1, made with openssl for this test only. */
function selfSigned(dir: string) {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

function get(url: string, ca: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS', () => {
  let h: Harness;
  let api: RunningApi;
  let ca: Buffer;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jobservice-tls-'));
    const files = selfSigned(dir);
    ca = readFileSync(files.cert);
    const config = testConfig({ protocol: 'https', https_config: files, port: await freePort() });
    h = await createHarness({ config, worker: false });
    api = await serveApi(config, h.client, testRegistry());
  });
  after(async () => {
    await api.close();
    await h.close();
  });

  it('serves the API over TLS with the configured certificate', async () => {
    assert.match(api.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const response = await get(`${api.url}/api/v1/jobs/0123456789abcdef01234567`, ca, {
      authorization: `Harbor-Secret ${TEST_SECRET}`,
    });
    assert.equal(response.status, 404);
    assert.equal(JSON.parse(response.body).code, 10010);
  });

  it('does not speak plain HTTP on the TLS port', async () => {
    await assert.rejects(fetch(api.url.replace('https:', 'http:') + '/api/v1/stats'));
  });
});
