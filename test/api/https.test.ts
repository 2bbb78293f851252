import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveApi, type RunningApi } from '../../src/api/serve-app.js';
import { loadConfig, type ConfigError } from '../../src/config/load-config.js';
import { freePort } from '../../src/process/free-port.js';
import { createHarness, TEST_SECRET, testConfig, type Harness } from '../helpers/harness.js';
import { testRegistry } from '../helpers/test-jobs.js';

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });

/** A self-signed certificate (for 127.0.0.1 unless told), made with openssl for this test only. */
function selfSigned(dir: string, name = 'cert', subject = '/CN=127.0.0.1', altName: string | undefined = 'IP:127.0.0.1') {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, name === 'cert' ? 'key.pem' : `${name}.key`);
  const san = altName ? ['-addext', `subjectAltName=${altName}`] : [];
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', subject, ...san, '-keyout', key, '-out', cert);
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

/** Harbor's internal TLS: INTERNAL_VERIFY_CLIENT_CERT=true and the CA in INTERNAL_TLS_TRUST_CA_PATH. */
describe('HTTPS that verifies client certificates', () => {
  let h: Harness;
  let api: RunningApi;
  let serverCa: Buffer;
  let client: { cert: Buffer; key: Buffer };
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobservice-mtls-'));
    const files = selfSigned(dir);
    serverCa = readFileSync(files.cert);
    const at = (name: string) => join(dir, name);
    // A CA of the deployment's own, and a client certificate it signed.
    selfSigned(dir, 'ca', '/CN=internal-ca', undefined);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=harbor-core', '-keyout', at('client.key'), '-out', at('client.csr'));
    openssl(
      'x509',
      '-req',
      '-in',
      at('client.csr'),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-out',
      at('client.pem'),
    );
    client = { cert: readFileSync(at('client.pem')), key: readFileSync(at('client.key')) };
    const config = loadConfig({
      argv: [],
      env: {
        JOB_SERVICE_PROTOCOL: 'https',
        JOB_SERVICE_HTTPS_CERT: files.cert,
        JOB_SERVICE_HTTPS_KEY: files.key,
        INTERNAL_VERIFY_CLIENT_CERT: 'true',
        INTERNAL_TLS_TRUST_CA_PATH: at('ca.pem'),
        CORE_SECRET: TEST_SECRET,
      },
    });
    assert.equal(config.https_config?.verify_client_cert, true);
    const served = testConfig({ protocol: 'https', https_config: config.https_config, port: await freePort() });
    h = await createHarness({ config: served, worker: false });
    api = await serveApi(served, h.client, testRegistry());
  });
  after(async () => {
    await api.close();
    await h.close();
  });

  const call = (tls: { cert?: Buffer; key?: Buffer }) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        `${api.url}/api/v1/jobs/0123456789abcdef01234567`,
        { ca: serverCa, ...tls, headers: { authorization: `Harbor-Secret ${TEST_SECRET}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('serves a client with a certificate from the trusted CA', async () => {
    assert.equal(await call(client), 404);
  });

  it('refuses the handshake to a client without one', async () => {
    await assert.rejects(call({}), (err: NodeJS.ErrnoException) =>
      /ECONNRESET|certificate|alert|socket hang up/i.test(`${err.code} ${err.message}`),
    );
  });

  it('refuses to start verifying without the CA, or with a flag that is not true or false', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({
          argv: [],
          env: {
            JOB_SERVICE_PROTOCOL: 'https',
            JOB_SERVICE_HTTPS_CERT: join(dir, 'cert.pem'),
            JOB_SERVICE_HTTPS_KEY: join(dir, 'key.pem'),
            CORE_SECRET: 's',
            ...env,
          },
        });
        return '';
      } catch (err) {
        return (err as ConfigError).problems.join('\n');
      }
    };
    assert.match(problems({ INTERNAL_VERIFY_CLIENT_CERT: 'true' }), /https_config\.client_ca: verify_client_cert needs client_ca/);
    assert.match(problems({ INTERNAL_VERIFY_CLIENT_CERT: 'yes' }), /INTERNAL_VERIFY_CLIENT_CERT: expected true or false/);
    assert.match(
      problems({ INTERNAL_VERIFY_CLIENT_CERT: 'true', INTERNAL_TLS_TRUST_CA_PATH: join(dir, 'absent.pem') }),
      /https_config\.client_ca \(set by INTERNAL_TLS_TRUST_CA_PATH\): cannot read file/,
    );
  });
});
