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
import { addTag, manifestExists, pushImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { testRegistry } from '../helpers/test-jobs.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The tags were read again once per repository and every 100 deletions: a build promoted (tagged)
 * after that read was deleted, and its new tag pointed at nothing.
 */
describe('GARBAGE_COLLECTION and a tag pushed after its second look at the tags', () => {
  let registry: TestRegistry;
  let h: Harness;
  let dir: string;
  before(async () => {
    registry = await startRegistry();
    dir = mkdtempSync(join(tmpdir(), 'rev-gc-race-'));
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
  const readerArrives = () =>
    waitFor(
      async () => {
        try {
          return openSync(link, constants.O_WRONLY | constants.O_NONBLOCK);
        } catch {
          return -1;
        }
      },
      (fd) => fd >= 0,
      { timeoutMs: 30_000, what: 'a read of the held tag link' },
    );
  let link = '';
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

  it('never deletes a manifest that is tagged when it is deleted', async () => {
    const base = await pushImage(registry.url, 'proj/race', 'base', '2026-01-01T00:00:00Z', 'base');
    const build = await pushImage(registry.url, 'proj/race', undefined, '2026-01-01T00:00:00Z', 'build');
    const linkDir = join(registry.storageDir, 'docker/registry/v2/repositories/proj/race/_manifests/tags/hold/current');
    mkdirSync(linkDir, { recursive: true });
    link = join(linkDir, 'link');
    execFileSync('mkfifo', [link]);
    const job = await h.submit({
      name: 'GARBAGE_COLLECTION',
      parameters: { delete_untagged: true, time_window: 0 },
      metadata: { kind: 'Generic' },
    });
    // First read: the scan. Let it through, the FIFO stays.
    const fd1 = await readerArrives();
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
    const fd2 = await readerArrives();
    // The build is promoted (tagged) now: after the second look began, before the deletion.
    await addTag(registry.url, 'proj/race', build, 'release');
    rmSync(link);
    writeFileSync(link, base);
    writeSync(fd2, base);
    closeSync(fd2);
    const done = await h.waitForStatus(job.id, ['Success', 'Error'], 60_000);
    assert.equal(done.status, 'Success', done.last_error);
    const tagResolves = (
      await fetch(`${registry.url}/v2/proj/race/manifests/release`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })
    ).status;
    assert.equal(
      await manifestExists(registry.url, 'proj/race', build),
      true,
      `the manifest tagged proj/race:release was deleted (GET by tag: ${tagResolves}):\n${log(job.id)}`,
    );
  });
});
