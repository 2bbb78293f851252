import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { manifestExists, pushImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { testRegistry } from '../helpers/test-jobs.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

async function putBlob(reg: string, repo: string, body: Buffer): Promise<string> {
  const start = await fetch(`${reg}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(start.headers.get('location')!, reg);
  location.searchParams.set('digest', sha(body));
  const put = await fetch(location, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(put.status, 201, await put.text());
  return sha(body);
}

/**
 * A signature attached to `subject` the OCI 1.1 way (a `subject` field, pushed by digest), as
 * Harbor (which serves the referrers API itself) stores a cosign/notation signature or an SBOM in
 * its registry: no tag in the registry's storage, attached to a tagged image.
 */
async function pushSignature(reg: string, repo: string, subject: string): Promise<string> {
  const config = Buffer.from('{}');
  const payload = Buffer.from(`signature of ${subject}`);
  const [c, l] = [await putBlob(reg, repo, config), await putBlob(reg, repo, payload)];
  const subjectSize = Number(
    (await fetch(`${reg}/v2/${repo}/manifests/${subject}`, { method: 'HEAD', headers: { accept: MANIFEST } })).headers.get(
      'content-length',
    ),
  );
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MANIFEST,
    artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: c, size: config.length },
    layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: l, size: payload.length }],
    subject: { mediaType: MANIFEST, digest: subject, size: subjectSize },
  });
  const digest = sha(body);
  const put = await fetch(`${reg}/v2/${repo}/manifests/${digest}`, { method: 'PUT', body, headers: { 'content-type': MANIFEST } });
  assert.equal(put.status, 201, await put.text());
  return digest;
}

describe('GARBAGE_COLLECTION delete_untagged and accessories', () => {
  let registry: TestRegistry;
  let h: Harness;
  let dir: string;
  before(async () => {
    registry = await startRegistry();
    dir = mkdtempSync(join(tmpdir(), 'rev-gc-'));
    const collector = join(dir, 'collector');
    writeFileSync(collector, `#!/bin/sh\necho "0 blobs marked, 0 blobs and 0 manifests eligible for deletion"\n`);
    chmodSync(collector, 0o755);
    h = await createHarness({
      registry: testRegistry({
        ...DEFAULT_REGISTRY_SETTINGS,
        garbageCollection: { command: [collector, 'garbage-collect', 'unused.yml'], storageDir: registry.storageDir },
      }),
    });
  });
  after(async () => {
    await h.close();
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const log = (id: string) => (existsSync(join(h.logDir, `${id}.log`)) ? readFileSync(join(h.logDir, `${id}.log`), 'utf8') : '');

  it('keeps the signature (an accessory with a subject) of a tagged image', async () => {
    const image = await pushImage(registry.url, 'proj/signed', 'v1', '2026-01-01T00:00:00Z');
    const signature = await pushSignature(registry.url, 'proj/signed', image);
    const job = await h.submit({
      name: 'GARBAGE_COLLECTION',
      parameters: { delete_untagged: true, time_window: 0 },
      metadata: { kind: 'Generic' },
    });
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.equal(await manifestExists(registry.url, 'proj/signed', image), true);
    assert.equal(
      await manifestExists(registry.url, 'proj/signed', signature),
      true,
      `the signature of the tagged image proj/signed:v1 was deleted:\n${log(job.id)}`,
    );
  });
});
