import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

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
export async function pushSignature(reg: string, repo: string, subject: string): Promise<string> {
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
