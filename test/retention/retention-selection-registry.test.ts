import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RegistryParam } from '../../src/jobs/retention/retention-params.js';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { startRegistry, pushImage, listTags, type DevRegistry } from '../../src/registry/dev-registry.js';
import { loadCandidates } from '../../src/retention/load-candidates.js';
import { RuleSchema } from '../../src/retention/policy-schema.js';
import { decide } from '../../src/retention/select.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const sha = (b: string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function size(reg: string, repo: string, digest: string) {
  return Number(
    (await fetch(`${reg}/v2/${repo}/manifests/${digest}`, { method: 'HEAD', headers: { accept: MANIFEST } })).headers.get('content-length'),
  );
}
async function putIndex(reg: string, repo: string, tag: string, children: { digest: string; platform: Record<string, string> }[]) {
  const manifests = [];
  for (const c of children)
    manifests.push({ mediaType: MANIFEST, digest: c.digest, size: await size(reg, repo, c.digest), platform: c.platform });
  const body = JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests });
  const r = await fetch(`${reg}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body, headers: { 'content-type': INDEX } });
  assert.equal(r.status, 201, await r.text());
  return sha(body);
}
const rule = (template: string, n: number, pattern: string) =>
  RuleSchema.parse({
    action: 'retain',
    template,
    params: { [template]: n },
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern }],
    scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
  });

describe('retention selection on what a real registry holds: indexes, attestations, registry URLs', () => {
  let reg: DevRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await reg.stop();
  });

  it('a registry URL ending in an empty query ("?") is refused, as an empty fragment is', async () => {
    await pushImage(reg.url, 'url/app', 'v1', '2026-01-01T00:00:00Z');
    const url = `${reg.url}?`;
    const parsed = RegistryParam.safeParse({ url });
    // What the job would then do with it: its requests go to the registry's root with ?/v2/… as a query.
    const tags = await new RegistryClient({ url }, { timeoutMs: 5000 }).tags('url/app').then(
      (t) => `tags ${t.join(',')}`,
      (e: Error) => `failed: ${e.message}`,
    );
    assert.equal(parsed.success, false, `accepted ${url}; the repository job's tag list then ${tags}`);
  });

  it('buildx-style indexes (an attestation manifest beside the image) are ranked by their image: latestPushedK 1 keeps the newest only', async () => {
    const repo = 'buildx/app';
    for (const [i, day] of ['01', '02', '03'].entries()) {
      const image = await pushImage(reg.url, repo, undefined, `2026-03-${day}T00:00:00Z`, 'amd64');
      // buildx's provenance attestation: a manifest whose config has no `created` (platform unknown/unknown).
      const attestation = await pushImage(reg.url, repo, undefined, '', `unknown-${i}`);
      await putIndex(reg.url, repo, `v${i + 1}`, [
        { digest: image, platform: { architecture: 'amd64', os: 'linux' } },
        { digest: attestation, platform: { architecture: 'unknown', os: 'unknown' } },
      ]);
    }
    const client = new RegistryClient({ url: reg.url }, { timeoutMs: 5000 });
    const candidates = await loadCandidates(client, repo, 4);
    const decisions = decide([rule('latestPushedK', 1, '**')], candidates, Math.floor(Date.now() / 1000));
    const verdicts = Object.fromEntries(
      decisions.map((d) => [d.candidate.tags.join(','), `${d.verdict} (pushed ${d.candidate.pushedTime})`]),
    );
    assert.deepEqual(
      decisions
        .filter((d) => d.verdict === 'DEL')
        .map((d) => d.candidate.tags.join(','))
        .sort(),
      ['v1', 'v2'],
      JSON.stringify(verdicts),
    );
    assert.deepEqual(await listTags(reg.url, repo), ['v1', 'v2', 'v3']);
  });

  it('an old release that shares one platform manifest with the retained release is not kept by that alone', async () => {
    // docker manifest create style: per-arch tags and a manifest list per release; arm64 was not rebuilt for 2.0.
    const repo = 'perarch/app';
    const amd1 = await pushImage(reg.url, repo, '1.0-amd64', '2026-01-01T00:00:00Z', 'amd64');
    const arm = await pushImage(reg.url, repo, '1.0-arm64', '2026-01-01T00:00:00Z', 'arm64');
    await fetch(`${reg.url}/v2/${repo}/manifests/${arm}`, { headers: { accept: MANIFEST } })
      .then((r) => r.text())
      .then((body) => fetch(`${reg.url}/v2/${repo}/manifests/2.0-arm64`, { method: 'PUT', body, headers: { 'content-type': MANIFEST } }));
    const amd2 = await pushImage(reg.url, repo, '2.0-amd64', '2026-02-01T00:00:00Z', 'amd64');
    await putIndex(reg.url, repo, '1.0', [
      { digest: amd1, platform: { architecture: 'amd64', os: 'linux' } },
      { digest: arm, platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    await putIndex(reg.url, repo, '2.0', [
      { digest: amd2, platform: { architecture: 'amd64', os: 'linux' } },
      { digest: arm, platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    const client = new RegistryClient({ url: reg.url }, { timeoutMs: 5000 });
    const candidates = await loadCandidates(client, repo, 4);
    // Keep the latest release (its manifest list); its manifests stay as it references them.
    const decisions = decide([rule('latestPushedK', 1, '?.?')], candidates, Math.floor(Date.now() / 1000));
    const table = decisions.map((d) => `${d.candidate.tags.join(',')}: ${d.verdict}${d.protectedBy ? ` (${d.protectedBy})` : ''}`);
    const deleted = decisions
      .filter((d) => d.verdict === 'DEL')
      .map((d) => d.candidate.tags.join(','))
      .sort();
    assert.deepEqual(deleted, ['1.0', '1.0-amd64'], table.join('\n'));
  });
});
