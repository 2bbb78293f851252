import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PolicySchema, RuleSchema, type Rule } from '../../src/retention/policy-schema.js';
import { decide, isProjectScoped, ruleAppliesTo, type Candidate } from '../../src/retention/select.js';

const DAY = 86_400;
const NOW = 1_800_000_000;
const hex = (ch: string) => ch.repeat(64);
const candidate = (digest: string, tags: string[], ageDays: number | undefined, extra: Partial<Candidate> = {}): Candidate => ({
  digest,
  tags,
  kind: 'image',
  pushedTime: ageDays === undefined ? undefined : NOW - ageDays * DAY,
  pulledTime: 0,
  createdTime: ageDays === undefined ? undefined : NOW - ageDays * DAY,
  ...extra,
});
const rule = (template: Rule['template'], n: number | undefined, tagPattern: string, repository: object[] = []): Rule =>
  RuleSchema.parse({
    action: 'retain',
    template,
    params: n === undefined ? {} : { [template]: n },
    tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: tagPattern }],
    scope_selectors: { repository },
  });
const verdicts = (rules: Rule[], candidates: Candidate[]) =>
  new Map(decide(rules, candidates, NOW).map((d) => [d.candidate.digest, d.verdict]));

describe('repository selectors of a policy exported from Harbor', () => {
  const nested = { kind: 'doublestar', decoration: 'repoExcludes', pattern: '*/**' };

  it('are matched against the name without the project, as Harbor matches them (launcher.go: ParseRepository)', () => {
    const exported = PolicySchema.parse({
      algorithm: 'or',
      rules: [rule('always', undefined, '**', [nested]), rule('latestPushedK', 1, '**')],
      scope: { level: 'project', ref: 1 },
    });
    assert.equal(isProjectScoped(exported), true);
    // Harbor sees `app` for proj/app: `*/**` (nested repositories of the project) does not exclude it.
    const applying = exported.rules.filter((r) => ruleAppliesTo(r, 'proj/app', { projectScoped: true }));
    assert.equal(applying.length, 2);
    const old = candidate(`sha256:${hex('1')}`, ['v1'], 10);
    const recent = candidate(`sha256:${hex('2')}`, ['v2'], 1);
    assert.equal(verdicts(applying, [old, recent]).get(old.digest), 'RETAIN', 'the always rule applies, as in Harbor');
    // A nested repository of the project is excluded there.
    assert.equal(ruleAppliesTo(exported.rules[0]!, 'proj/team/app', { projectScoped: true }), false);
  });

  it('a policy without Harbor’s project scope still matches a pattern against either name', () => {
    const written = PolicySchema.parse({ algorithm: 'or', rules: [rule('always', undefined, '**', [nested])] });
    assert.equal(isProjectScoped(written), false);
    assert.equal(ruleAppliesTo(written.rules[0]!, 'proj/app'), false, 'the path proj/app matches */**');
    assert.equal(
      ruleAppliesTo(rule('always', undefined, '**', [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'app' }]), 'proj/app'),
      true,
    );
  });
});

describe('accessories follow what they are attached to', () => {
  it('a `cosign sign --recursive` signature of a kept multi-arch image’s platform manifest stays, and goes with the image', () => {
    const amd = `sha256:${hex('a')}`;
    const arm = `sha256:${hex('b')}`;
    const index = candidate(`sha256:${hex('1')}`, ['v1'], 1, { kind: 'index', children: [amd, arm] });
    const indexSignature = candidate(`sha256:${hex('5')}`, [`sha256-${hex('1')}.sig`], undefined);
    const platformSignature = candidate(`sha256:${hex('6')}`, [`sha256-${hex('a')}.sig`], undefined);
    const all = [index, indexSignature, platformSignature];
    const kept = verdicts([rule('always', undefined, 'v*')], all);
    assert.deepEqual([...kept.values()], ['RETAIN', 'RETAIN', 'RETAIN']);
    const decisions = decide([rule('always', undefined, 'v*')], all, NOW);
    assert.equal(decisions.find((d) => d.candidate.digest === platformSignature.digest)!.accessoryOf, amd);
    // The image doomed (by a time rule that signatures, without a time, would otherwise survive): its signatures go too.
    const gone = verdicts([rule('latestPushedK', 0, 'v*')], all);
    assert.deepEqual([...gone.values()], ['DEL', 'DEL', 'DEL']);
  });

  it('an OCI 1.1 referrers tag (`sha256-<subject>`) of a kept image is kept with it, and deleted with it', () => {
    const image = candidate(`sha256:${hex('1')}`, ['v1'], 1);
    const other = candidate(`sha256:${hex('2')}`, ['v2'], 5);
    const referrers = candidate(`sha256:${hex('7')}`, [`sha256-${hex('1')}`], undefined, {
      kind: 'index',
      children: [`sha256:${hex('8')}`],
    });
    const ofOther = candidate(`sha256:${hex('9')}`, [`sha256-${hex('2')}`], undefined, { kind: 'index', children: [`sha256:${hex('c')}`] });
    const result = verdicts([rule('latestPushedK', 1, 'v*')], [image, other, referrers, ofOther]);
    assert.equal(result.get(referrers.digest), 'RETAIN', 'the referrers index of the kept image');
    assert.equal(result.get(ofOther.digest), 'DEL', 'the referrers index of the deleted image');
    // An image under such a tag is an image like any other: ranked by the rules, attached to nothing.
    const plain = candidate(`sha256:${hex('d')}`, [`sha256-${hex('1')}`], 0.5);
    const decided = decide([rule('latestPushedK', 1, 'sha256-*')], [image, plain], NOW);
    assert.equal(decided.find((d) => d.candidate.digest === plain.digest)!.accessoryOf, undefined);
    assert.equal(decided.find((d) => d.candidate.digest === plain.digest)!.verdict, 'RETAIN');
  });
});
