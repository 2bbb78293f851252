import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { addTag, manifestExists, pushImage, pushIndexOf, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { pushSignature } from '../helpers/oci-accessory.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * GARBAGE_COLLECTION's own deletions (delete_untagged) against a registry that is used meanwhile.
 * The registry's collector is a stand-in that marks that it ran: what is under test is what the
 * job does before it, with a real registry's storage.
 */
describe('GARBAGE_COLLECTION and a registry in use: a time window, a second look at the tags, a stop', () => {
  let registry: TestRegistry;
  let h: Harness;
  let dir: string;
  let marker: string;
  before(async () => {
    registry = await startRegistry();
    dir = mkdtempSync(join(tmpdir(), 'gc-safety-'));
    marker = join(dir, 'collected');
    const collector = join(dir, 'collector');
    writeFileSync(collector, `#!/bin/sh\necho ran >> ${marker}\necho "0 blobs marked, 0 blobs and 0 manifests eligible for deletion"\n`);
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

  const gc = async (parameters: Record<string, unknown>) => {
    const job = await h.submit({
      name: 'GARBAGE_COLLECTION',
      parameters: { delete_untagged: true, ...parameters },
      metadata: { kind: 'Generic' },
    });
    return job.id;
  };
  const log = (id: string) => (existsSync(join(h.logDir, `${id}.log`)) ? readFileSync(join(h.logDir, `${id}.log`), 'utf8') : '');
  /** A tag link that is a FIFO: the job's scan waits on it until the test writes the link. */
  const holdingTag = (repo: string) => {
    const linkDir = join(registry.storageDir, 'docker/registry/v2/repositories', repo, '_manifests/tags/hold/current');
    mkdirSync(linkDir, { recursive: true });
    const link = join(linkDir, 'link');
    execFileSync('mkfifo', [link]);
    return link;
  };
  /** Opens the FIFO's writing end once the scan reads it (so the job is inside its scan). */
  const scanReaches = (link: string) =>
    waitFor(
      async () => {
        try {
          return openSync(link, constants.O_WRONLY | constants.O_NONBLOCK);
        } catch {
          return -1;
        }
      },
      (fd) => fd >= 0,
      { timeoutMs: 30_000, what: 'the scan to read the held tag link' },
    );
  /** Lets the scan go on, and leaves a plain link behind for any later read. */
  const release = (link: string, fd: number, digest: string) => {
    rmSync(link);
    writeFileSync(link, digest);
    writeSync(fd, digest);
    closeSync(fd);
  };

  it('keeps an untagged manifest pushed within the time window (2 hours by default); time_window 0 takes it', async () => {
    const fresh = await pushImage(registry.url, 'proj/window', undefined, '2026-01-01T00:00:00Z', 'fresh');
    const kept = await gc({});
    assert.equal((await h.waitForStatus(kept, ['Success', 'Error'], 60_000)).status, 'Success');
    assert.equal(await manifestExists(registry.url, 'proj/window', fresh), true, 'a manifest pushed a moment ago went');
    assert.doesNotMatch(log(kept), /untagged manifest proj\/window/);
    // A window that is no whole number of hours is refused at submit, not at run time.
    for (const time_window of [-1, 1.5, '2']) {
      const refused = await h.request('POST', '/api/v1/jobs', {
        job: { name: 'GARBAGE_COLLECTION', parameters: { delete_untagged: true, time_window }, metadata: { kind: 'Generic' } },
      });
      assert.equal(refused.status, 400, String(time_window));
      assert.equal(((await refused.json()) as { code: number }).code, 10013);
    }
    const taken = await gc({ time_window: 0 });
    assert.equal((await h.waitForStatus(taken, ['Success', 'Error'], 60_000)).status, 'Success');
    assert.equal(await manifestExists(registry.url, 'proj/window', fresh), false);
  });

  it('spares untagged manifests that a tag or an index pushed during the run reaches (a promotion by digest, a multi-arch push)', async () => {
    const build = await pushImage(registry.url, 'proj/promote', undefined, '2026-01-01T00:00:00Z', 'build');
    const platform = await pushImage(registry.url, 'proj/promote', undefined, '2026-01-01T00:00:00Z', 'arm64');
    const base = await pushImage(registry.url, 'proj/promote', 'base', '2026-01-01T00:00:00Z', 'base');
    const link = holdingTag('proj/promote');
    const id = await gc({ time_window: 0 });
    const fd = await scanReaches(link);
    // The scan has listed the repository's revisions and tags: both pushes come after it. The
    // promotion links its manifest again (the scan sees it pushed during the run); the index
    // leaves its platform manifest as it was (the second look at the tags finds it).
    await addTag(registry.url, 'proj/promote', build, 'release');
    await pushIndexOf(registry.url, 'proj/promote', 'multi', [platform]);
    release(link, fd, base);
    const done = await h.waitForStatus(id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.equal(await manifestExists(registry.url, 'proj/promote', build), true, `the promoted build went:\n${log(id)}`);
    assert.equal(await manifestExists(registry.url, 'proj/promote', platform), true, `the index's platform manifest went:\n${log(id)}`);
    assert.match(log(id), new RegExp(`proj/promote@${platform} is now reached by a tag: kept`));
    rmSync(join(link, '..', '..'), { recursive: true, force: true });
  });

  it('a stop while the job reads the storage deletes nothing and runs no collection', async () => {
    const untagged = await pushImage(registry.url, 'proj/stopped', undefined, '2026-01-01T00:00:00Z', 'doomed');
    const link = holdingTag('proj/stopped');
    rmSync(marker, { force: true });
    const id = await gc({ time_window: 0 });
    const fd = await scanReaches(link);
    assert.equal((await h.request('POST', `/api/v1/jobs/${id}`, { action: 'stop' })).status, 204);
    await h.waitForStatus(id, ['Stopped'], 30_000);
    release(link, fd, untagged);
    await waitFor(
      async () => log(id),
      (text) => /stopped while reading the storage|garbage collection:|untagged manifest/.test(text),
      { what: 'the job to decide after its scan' },
    );
    assert.match(log(id), /stopped while reading the storage; nothing deleted, no collection/);
    assert.equal(existsSync(marker), false, 'the collector ran after the stop');
    assert.equal(await manifestExists(registry.url, 'proj/stopped', untagged), true);
    rmSync(join(link, '..', '..'), { recursive: true, force: true });
  });

  /** Open descriptors of `path`, in any process. */
  const holders = (path: string) => {
    let n = 0;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let fds: string[] = [];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === path) n += 1;
        } catch {
          // Closed meanwhile.
        }
      }
    }
    return n;
  };

  // Harbor keeps an image's accessories with it; stored untagged through the referrers API, they
  // were taken for untagged manifests and deleted from live images.
  it('keeps the signature (an accessory with a subject) of a tagged image', async () => {
    const image = await pushImage(registry.url, 'proj/signed', 'v1', '2026-01-01T00:00:00Z');
    const signature = await pushSignature(registry.url, 'proj/signed', image);
    const id = await gc({ time_window: 0 });
    const done = await h.waitForStatus(id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    assert.equal(await manifestExists(registry.url, 'proj/signed', image), true);
    assert.equal(
      await manifestExists(registry.url, 'proj/signed', signature),
      true,
      `the signature of the tagged image proj/signed:v1 was deleted:\n${log(id)}`,
    );
  });

  // The tags were read again once per repository and every 100 deletions: a build promoted
  // (tagged) after that read was deleted, and its new tag pointed at nothing.
  it('never deletes a manifest tagged after the second look at the tags, before its deletion', async () => {
    const base = await pushImage(registry.url, 'proj/race', 'base', '2026-01-01T00:00:00Z', 'base');
    const build = await pushImage(registry.url, 'proj/race', undefined, '2026-01-01T00:00:00Z', 'build');
    const link = holdingTag('proj/race');
    const id = await gc({ time_window: 0 });
    // First read: the scan. Let it through, the FIFO stays.
    const fd1 = await scanReaches(link);
    writeSync(fd1, base);
    closeSync(fd1);
    // The scan's read has let go of the FIFO: no process holds it open (the next read waits in its
    // open() for a writer, with no descriptor yet), so the next reader to arrive is the second look.
    await waitFor(
      async () => holders(link),
      (n) => n === 0,
      { what: 'the scan to close the held tag link' },
    );
    // Second read: the job's second look at the tags, just before its deletions in proj/race.
    const fd2 = await scanReaches(link);
    // The build is promoted (tagged) now: after the second look began, before the deletion.
    await addTag(registry.url, 'proj/race', build, 'release');
    release(link, fd2, base);
    const done = await h.waitForStatus(id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    const tagResolves = (
      await fetch(`${registry.url}/v2/proj/race/manifests/release`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })
    ).status;
    assert.equal(
      await manifestExists(registry.url, 'proj/race', build),
      true,
      `the manifest tagged proj/race:release was deleted (GET by tag: ${tagResolves}):\n${log(id)}`,
    );
  });
});
