import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { garbageCollectionJob } from '../../src/jobs/garbage-collection-job.js';
import { DEFAULT_REGISTRY_SETTINGS } from '../../src/jobs/retention/retention-settings.js';
import type { JobContext } from '../../src/jobs/job-context.js';
import { tagRecheck } from '../../src/retention/tag-recheck-gate.js';
import { decide, type Candidate } from '../../src/retention/select.js';

const image = (digest: string, tags: string[], pushedTime: number): Candidate => ({
  digest,
  tags,
  kind: 'image',
  pushedTime,
  pulledTime: 0,
  createdTime: pushedTime,
});

/** latestPushedK 1 over every tag, and `always` over release-*. */
const rules = [
  {
    action: 'retain',
    template: 'latestPushedK',
    params: { latestPushedK: 1 },
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }],
    scope_selectors: {},
  },
  {
    action: 'retain',
    template: 'always',
    params: {},
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'release-*' }],
    scope_selectors: {},
  },
] as unknown as Parameters<typeof decide>[0];

function setUp(reread: (snapshot: ReadonlyMap<string, string>, watched: ReadonlySet<string>) => Promise<Map<string, string>>) {
  const candidates = [image('sha256:a', ['a'], 100), image('sha256:b', ['b', 'latest-b'], 200), image('sha256:c', ['c', 'release-0'], 300)];
  const decisions = decide(rules, candidates, 1000);
  let clock = 0;
  const log: string[] = [];
  const gate = tagRecheck({
    candidates,
    decisions,
    reread,
    listed: async () => [],
    decideAgain: () => decide(rules, candidates, 1000),
    log: (m) => log.push(m),
    now: () => clock,
  });
  return { gate, candidates, decisions, log, advance: (ms: number) => (clock += ms) };
}

describe('tags read again before a run deletes', () => {
  it('spares a doomed digest a retained tag was pushed onto; a doomed digest nothing moved onto still goes', async () => {
    const watchedSeen: string[][] = [];
    const { gate, log } = setUp(async (_snapshot, watched) => {
      watchedSeen.push([...watched].sort());
      return new Map([['release-1', 'sha256:a']]);
    });
    assert.match((await gate.spares('sha256:a')) ?? '', /retained once its tags were read again/);
    assert.equal(await gate.spares('sha256:b'), undefined);
    // Every tag is watched: a retained one moved onto a doomed digest, and a doomed one moved onto
    // an index the run never saw, are both moves to see.
    assert.deepEqual(watchedSeen[0], ['a', 'b', 'c', 'latest-b', 'release-0']);
    assert.match(log.join('\n'), /tag release-1 now points at sha256:a \(pushed since the repository was read\)/);
  });

  it('a retained tag moved onto a doomed digest spares it; the policy decides, not the move alone', async () => {
    const { gate, candidates } = setUp(
      async () =>
        new Map([
          ['release-0', 'sha256:b'],
          ['c', 'sha256:a'],
        ]),
    );
    // release-0 is always kept: b, which it now names, is spared.
    assert.ok(await gate.spares('sha256:b'));
    assert.deepEqual(candidates.find((c) => c.digest === 'sha256:b')!.tags, ['b', 'latest-b', 'release-0']);
    // c, kept only as the latest pushed, moved onto an older image: that image is not the latest
    // pushed, so the policy still dooms it (and c with it), as it would have had c been there at the load.
    assert.equal(await gate.spares('sha256:a'), undefined);
    assert.deepEqual(candidates.find((c) => c.digest === 'sha256:a')!.tags, ['a', 'c']);
  });

  it('reads again at most once a second, and never more than a tenth of the time', async () => {
    let reads = 0;
    const { gate, advance } = setUp(async () => {
      reads += 1;
      advance(3_000); // each re-read takes 3 s of the (fake) clock
      return new Map();
    });
    await gate.spares('sha256:a');
    assert.equal(reads, 1);
    advance(1_000);
    await gate.spares('sha256:b');
    assert.equal(reads, 1, 'a re-read that took 3 s waits 30 s for the next');
    advance(29_000);
    await gate.spares('sha256:b');
    assert.equal(reads, 2);
  });

  it('a re-read that fails fails the deletes waiting on it, and the next delete reads again', async () => {
    let fail = true;
    let reads = 0;
    const { gate } = setUp(async () => {
      reads += 1;
      if (fail) throw new Error('registry down');
      return new Map();
    });
    await assert.rejects(gate.spares('sha256:a'), /registry down/);
    fail = false;
    assert.equal(await gate.spares('sha256:a'), undefined);
    assert.equal(reads, 2);
  });

  it('concurrent deletes share one re-read and all wait for it', async () => {
    let reads = 0;
    let release!: (moved: Map<string, string>) => void;
    const { gate } = setUp(() => {
      reads += 1;
      return new Promise((resolve) => (release = resolve));
    });
    const both = Promise.all([gate.spares('sha256:a'), gate.spares('sha256:b')]);
    release(new Map([['release-2', 'sha256:b']]));
    const [a, b] = await both;
    assert.equal(reads, 1);
    assert.equal(a, undefined);
    assert.ok(b);
  });
});

/** A registry's tags now, read as tagsMovedSince reads them: new tags, and watched ones that moved. */
function registryReread(tags: Map<string, string>) {
  return async (snapshot: ReadonlyMap<string, string>, watched: ReadonlySet<string>) => {
    const moved = new Map<string, string>();
    for (const [tag, digest] of tags) if ((!snapshot.has(tag) || watched.has(tag)) && snapshot.get(tag) !== digest) moved.set(tag, digest);
    return moved;
  };
}

describe('a manifest pushed during the run that lists doomed ones', () => {
  const newest = [rules[0]!];
  it('a failed read of the new index is read again: what it lists stays spared', async () => {
    // a and c (old, doomed), b (newest, kept). During the run an index N is pushed as `multi`, listing a.
    const candidates = [image('sha256:a', ['a'], 100), image('sha256:c', ['c'], 150), image('sha256:b', ['b'], 200)];
    const decisions = decide(newest, candidates, 1000);
    let clock = 0;
    let reads = 0;
    const gate = tagRecheck({
      candidates,
      decisions,
      reread: registryReread(
        new Map([
          ['a', 'sha256:a'],
          ['b', 'sha256:b'],
          ['multi', 'sha256:n'],
        ]),
      ),
      // The first read of N fails (a 503, a timeout); later ones answer.
      listed: async (digest) => {
        if (++reads === 1) throw new Error('registry 503');
        return digest === 'sha256:n' ? ['sha256:a'] : [];
      },
      decideAgain: () => decide(newest, candidates, 1000),
      log: () => undefined,
      now: () => clock,
    });
    await assert.rejects(gate.spares('sha256:c'), /503/);
    clock += 60_000;
    assert.match((await gate.spares('sha256:a')) ?? '', /listed by sha256:n, which tag multi points at/);
  });

  it('a doomed tag moved onto a new index spares what it lists', async () => {
    // `docker buildx imagetools create -t a …` makes index N under the doomed tag a, listing the image a named.
    const candidates = [image('sha256:a', ['a'], 100), image('sha256:b', ['b'], 200)];
    const gate = tagRecheck({
      candidates,
      decisions: decide(newest, candidates, 1000),
      reread: registryReread(
        new Map([
          ['a', 'sha256:n'],
          ['b', 'sha256:b'],
        ]),
      ),
      listed: async (digest) => (digest === 'sha256:n' ? ['sha256:a'] : []),
      decideAgain: () => decide(newest, candidates, 1000),
      log: () => undefined,
      now: () => 0,
    });
    assert.match((await gate.spares('sha256:a')) ?? '', /listed by sha256:n, which tag a points at/);
  });

  it('spares the signatures of the platform images it lists, and a signature of such a signature', async () => {
    const hex = (ch: string) => ch.repeat(64);
    const platform = `sha256:${hex('a')}`;
    const index = { ...image(`sha256:${hex('1')}`, ['v1'], 100), kind: 'index' as const, children: [platform] };
    const signature = image(`sha256:${hex('5')}`, [`sha256-${hex('a')}.sig`], 0);
    const countersigned = image(`sha256:${hex('6')}`, [`sha256-${hex('5')}.sig`], 0);
    const candidates = [index, signature, countersigned, image(`sha256:${hex('2')}`, ['v2'], 200)];
    const decisions = decide(newest, candidates, 1000);
    assert.deepEqual(
      decisions.filter((d) => d.verdict === 'DEL').map((d) => d.candidate.digest),
      [index.digest, signature.digest, countersigned.digest],
    );
    const gate = tagRecheck({
      candidates,
      decisions,
      reread: registryReread(new Map([['release-2', 'sha256:n']])),
      listed: async (digest) => (digest === 'sha256:n' ? [platform] : []),
      decideAgain: () => decide(newest, candidates, 1000),
      log: () => undefined,
      now: () => 0,
    });
    assert.match((await gate.spares(signature.digest)) ?? '', /attached to sha256:a{64}/);
    assert.match((await gate.spares(countersigned.digest)) ?? '', /attached to sha256:5{64}/);
    assert.equal(await gate.spares(index.digest), undefined, 'the old index itself still goes');
  });
});

describe('GARBAGE_COLLECTION checks its collector first', () => {
  it('a collector that cannot run fails the job before any untagged manifest is deleted', async () => {
    const storage = mkdtempSync(join(tmpdir(), 'gc-order-'));
    const hex = 'a'.repeat(64);
    const revision = join(storage, 'docker/registry/v2/repositories/proj/app/_manifests/revisions/sha256', hex);
    mkdirSync(revision, { recursive: true });
    writeFileSync(join(revision, 'link'), `sha256:${hex}`);
    const job = garbageCollectionJob({
      ...DEFAULT_REGISTRY_SETTINGS,
      garbageCollection: { command: ['/nonexistent/registry', 'garbage-collect', '/etc/registry.yml'], storageDir: storage },
    });
    const lines: string[] = [];
    const logger = { debug: () => {}, info: (m: string) => lines.push(m), warning: () => {}, error: () => {} };
    const ctx = { logger, signal: new AbortController().signal, checkin: () => {}, opCommand: () => undefined } as unknown as JobContext;
    await assert.rejects(job.run(ctx, job.params.parse({ delete_untagged: true })), /could not run \/nonexistent\/registry/);
    assert.ok(existsSync(join(revision, 'link')), 'the untagged manifest is still there');
    assert.doesNotMatch(lines.join('\n'), /deleting/);
  });
});
