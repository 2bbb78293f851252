import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImmutableRuleSchema, PolicySchema, RuleSchema, type Rule } from '../../src/retention/policy-schema.js';
import { resultTable } from '../../src/retention/result-table.js';
import { decide, immutableRuleAppliesTo, ruleAppliesTo, type Candidate } from '../../src/retention/select.js';
import { doublestarMatch } from '../../src/retention/doublestar.js';

const DAY = 86_400;
const NOW = 1_800_000_000;
const c = (digest: string, tags: string[], ageDays: number, extra: Partial<Candidate> = {}): Candidate => ({
  digest,
  tags,
  kind: 'image',
  pushedTime: NOW - ageDays * DAY,
  pulledTime: 0,
  createdTime: NOW - ageDays * DAY,
  ...extra,
});
// Newest first: e (1 day), d (2), c (3), b (4, two tags), a (5), u (untagged, 6).
const CANDIDATES = [
  c('a', ['v1.0'], 5),
  c('b', ['v1.1', 'stable'], 4),
  c('c', ['v1.2-rc'], 3),
  c('d', ['dev-1'], 2),
  c('e', ['release-2'], 1),
  c('u', [], 6),
];

const sel = (decoration: 'matches' | 'excludes', pattern: string, extras?: string) => ({
  kind: 'doublestar' as const,
  decoration,
  pattern,
  ...(extras ? { extras } : {}),
});
const rule = (
  template: Rule['template'],
  n: number | undefined,
  tagSelectors = [sel('matches', '**')],
  repository: ReturnType<typeof repoSel>[] = [],
): Rule =>
  RuleSchema.parse({
    action: 'retain',
    template,
    params: n === undefined ? {} : { [template]: n },
    tag_selectors: tagSelectors,
    scope_selectors: { repository },
  });
const repoSel = (decoration: 'repoMatches' | 'repoExcludes', pattern: string) => ({ kind: 'doublestar' as const, decoration, pattern });

/** The digests each verdict got, sorted. */
function verdicts(rules: Rule[], candidates = CANDIDATES) {
  const decisions = decide(rules, candidates, NOW);
  const pick = (v: string) =>
    decisions
      .filter((d) => d.verdict === v)
      .map((d) => d.candidate.digest)
      .sort()
      .join(',');
  return { retain: pick('RETAIN'), del: pick('DEL') };
}

describe('retention selection (Harbor rule templates and selectors)', () => {
  it('latestPushedK keeps the K newest of what its selectors select, untagged included by default', () => {
    assert.deepEqual(verdicts([rule('latestPushedK', 2)]), { retain: 'd,e', del: 'a,b,c,u' });
    assert.deepEqual(verdicts([rule('latestPushedK', 0)]), { retain: '', del: 'a,b,c,d,e,u' });
  });

  it('a rule without its template’s parameter is refused, as Harbor fails its job (no default stands in)', () => {
    for (const template of ['latestPushedK', 'nDaysSinceLastPush', 'lastXDays'] as const) {
      assert.throws(() => rule(template, undefined), /is required/, template);
    }
    assert.doesNotThrow(
      () => RuleSchema.parse({ ...rule('always', undefined), template: 'latestPushedK', disabled: true }),
      'a disabled rule is not run',
    );
  });

  it('an artifact whose push time is unknown is kept by every time rule and takes none of the K places', () => {
    const unknown = c('x', ['reproducible'], 0, { pushedTime: undefined, createdTime: undefined });
    assert.deepEqual(verdicts([rule('latestPushedK', 2)], [...CANDIDATES, unknown]), { retain: 'd,e,x', del: 'a,b,c,u' });
    // Signatures (cosign's empty config: `created` 0001-01-01) beside three images: the two newest images stay.
    const signed = [c('v1', ['v1'], 3), c('v2', ['v2'], 2), c('v3', ['v3'], 1)];
    const signatures = signed.map((s) =>
      c(`sig-${s.digest}`, [`sha256-${s.digest}.sig`], 0, { pushedTime: undefined, createdTime: undefined }),
    );
    assert.deepEqual(verdicts([rule('latestPushedK', 2)], [...signed, ...signatures]), {
      retain: 'sig-v1,sig-v2,sig-v3,v2,v3',
      del: 'v1',
    });
    assert.deepEqual(verdicts([rule('nDaysSinceLastPush', 1)], [...CANDIDATES, unknown]), { retain: 'e,x', del: 'a,b,c,d,u' });
    assert.deepEqual(verdicts([rule('lastXDays', 1)], [...CANDIDATES, unknown]), { retain: 'x', del: 'a,b,c,d,e,u' });
  });

  it('nDaysSinceLastPush keeps those pushed within N days; lastXDays those pushed after now − X days', () => {
    assert.deepEqual(verdicts([rule('nDaysSinceLastPush', 3)]), { retain: 'c,d,e', del: 'a,b,u' });
    assert.deepEqual(verdicts([rule('lastXDays', 3)]), { retain: 'd,e', del: 'a,b,c,u' });
  });

  it('always keeps everything it selects; nothing is refused (Harbor does not register it, so its job fails)', () => {
    assert.deepEqual(verdicts([rule('always', undefined)]), { retain: 'a,b,c,d,e,u', del: '' });
    assert.throws(() => RuleSchema.parse({ ...rule('always', undefined), template: 'nothing' }));
  });

  it('a digest is retained when any of its tags matches (several tags on one digest); matches takes untagged in by default', () => {
    assert.deepEqual(verdicts([rule('always', undefined, [sel('matches', 'stable')])]), { retain: 'b,u', del: 'a,c,d,e' });
    assert.deepEqual(verdicts([rule('always', undefined, [sel('matches', 'stable', '{"untagged":false}')])]), {
      retain: 'b',
      del: 'a,c,d,e,u',
    });
  });

  it('matches with untagged false leaves untagged artifacts out; excludes selects what has a tag outside the pattern', () => {
    assert.deepEqual(verdicts([rule('always', undefined, [sel('matches', '**', '{"untagged":false}')])]), {
      retain: 'a,b,c,d,e',
      del: 'u',
    });
    assert.deepEqual(verdicts([rule('always', undefined, [sel('excludes', 'dev-*')])]), { retain: 'a,b,c,e,u', del: 'd' });
    assert.deepEqual(verdicts([rule('always', undefined, [sel('excludes', 'dev-*', '{"untagged":true}')])]), {
      retain: 'a,b,c,e',
      del: 'd,u',
    });
    // Harbor decodes given extras into a boolean that is false unless set: `{}` leaves untagged out.
    assert.deepEqual(verdicts([rule('always', undefined, [sel('matches', '**', '{}')])]), { retain: 'a,b,c,d,e', del: 'u' });
  });

  it('tag selectors of one rule AND; rules OR; everything no rule retains is deleted', () => {
    const tagged = '{"untagged":false}';
    const release = [sel('matches', 'v*', tagged), sel('excludes', '*-rc')];
    assert.deepEqual(verdicts([rule('always', undefined, release)]), { retain: 'a,b', del: 'c,d,e,u' });
    const dev = [sel('matches', 'dev-*', tagged)];
    assert.deepEqual(verdicts([rule('latestPushedK', 1, release), rule('always', undefined, dev)]), { retain: 'b,d', del: 'a,c,e,u' });
  });

  it('a disabled rule retains nothing', () => {
    const off = { ...rule('always', undefined), disabled: true };
    assert.deepEqual(verdicts([off, rule('latestPushedK', 1)]), { retain: 'e', del: 'a,b,c,d,u' });
  });

  it('doublestar: * stays in a segment, ** crosses them, braces and an empty pattern', () => {
    assert.ok(doublestarMatch('**', 'proj/app/sub'));
    assert.ok(doublestarMatch('proj/*', 'proj/app'));
    assert.ok(!doublestarMatch('proj/*', 'proj/app/sub'));
    assert.ok(doublestarMatch('proj/**', 'proj/app/sub'));
    assert.ok(doublestarMatch('{dev,test}-*', 'test-3'));
    assert.ok(doublestarMatch('', 'anything'));
    assert.ok(doublestarMatch('*', '.hidden'));
  });

  it('an excludes pattern Harbor reads literally keeps what it reads (picomatch took !latest as “not latest”)', () => {
    // Every tag differs from the text `!latest`, so every artifact is selected (untagged ones too: excludes with untagged false).
    assert.deepEqual(verdicts([rule('always', undefined, [sel('excludes', '!latest', '{"untagged":false}')])]), {
      retain: 'a,b,c,d,e,u',
      del: '',
    });
  });

  it('repoMatches and repoExcludes decide which repositories a rule applies to (all must hold)', () => {
    const r = rule('always', undefined, [sel('matches', '**')], [repoSel('repoMatches', 'proj/**'), repoSel('repoExcludes', '**/legacy')]);
    assert.ok(ruleAppliesTo(r, 'proj/app'));
    assert.ok(!ruleAppliesTo(r, 'proj/legacy'));
    assert.ok(!ruleAppliesTo(r, 'other/app'));
    assert.ok(ruleAppliesTo(rule('always', undefined), 'anything/at/all'));
  });

  it("a repository selector from Harbor matches the name without its project, as Harbor's launcher passes it", () => {
    const harbor = rule('always', undefined, [sel('matches', '**')], [repoSel('repoMatches', 'app')]);
    assert.ok(ruleAppliesTo(harbor, 'proj/app'));
    assert.ok(ruleAppliesTo(harbor, 'app'));
    assert.ok(!ruleAppliesTo(harbor, 'proj/other'));
    assert.ok(ruleAppliesTo(rule('always', undefined, [sel('matches', '**')], [repoSel('repoMatches', 'team/*')]), 'proj/team/x'));
    assert.ok(!ruleAppliesTo(rule('always', undefined, [sel('matches', '**')], [repoSel('repoExcludes', 'app')]), 'proj/app'));
  });

  it('never deletes a manifest a retained index references, nor an index whose manifest is retained', () => {
    const candidates = [
      c('idx', ['multi'], 1, { kind: 'index', children: ['child-amd64', 'child-arm64'] }),
      c('child-amd64', ['amd64-only'], 9),
      c('old-idx', ['old-multi'], 9, { kind: 'index', children: ['kept'] }),
      c('kept', ['keep-me'], 8),
    ];
    const decisions = decide(
      [rule('always', undefined, [sel('matches', 'multi')]), rule('always', undefined, [sel('matches', 'keep-me')])],
      candidates,
      NOW,
    );
    const byDigest = Object.fromEntries(decisions.map((d) => [d.candidate.digest, d]));
    assert.equal(byDigest['child-amd64']?.verdict, 'RETAIN');
    assert.match(byDigest['child-amd64']?.protectedBy ?? '', /referenced by retained index idx/);
    assert.equal(byDigest['old-idx']?.verdict, 'RETAIN');
    assert.match(byDigest['old-idx']?.protectedBy ?? '', /index of retained manifest kept/);
  });

  it('an index kept for one of its manifests keeps its others too: a kept index is never left broken', () => {
    const candidates = [
      c('multi', ['multi'], 5, { kind: 'index', children: ['amd64', 'arm64'] }),
      c('amd64', ['amd64'], 5),
      c('arm64', ['arm64'], 5),
      c('other', ['other'], 5),
    ];
    const decisions = decide([rule('always', undefined, [sel('matches', 'amd64')])], candidates, NOW);
    const byDigest = Object.fromEntries(decisions.map((d) => [d.candidate.digest, d]));
    assert.equal(byDigest.multi?.verdict, 'RETAIN');
    assert.match(byDigest.multi?.protectedBy ?? '', /index of retained manifest amd64/);
    assert.equal(byDigest.arm64?.verdict, 'RETAIN', 'the kept index still references arm64');
    assert.match(byDigest.arm64?.protectedBy ?? '', /referenced by kept index multi/);
    assert.equal(byDigest.other?.verdict, 'DEL');
  });

  it('prints Harbor’s result table with a row per artifact', () => {
    const table = resultTable('proj/app', [
      { candidate: c('sha256:aa', ['v1', 'latest'], 1), retention: 'RETAIN' },
      { candidate: c('sha256:bb', [], 2), retention: 'ERR', error: 'HTTP 500' },
    ]);
    assert.match(table, /\| Digest\s+\| Tag\s+\| Kind\s+\| Labels \| PushedTime\s+\| PulledTime\s+\| CreatedTime\s+\| Retention \|/);
    assert.match(table, /sha256:aa \| v1,latest \| image \|\s+\| \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} \|\s+\| \d{4}\//);
    assert.match(table, /Retention error for artifact image:proj\/app:sha256:bb : HTTP 500/);
  });
});

describe('cosign accessories (signature, attestation, SBOM tags) follow the artifact they belong to', () => {
  const hex = (ch: string) => ch.repeat(64);
  const v1 = c(`sha256:${hex('1')}`, ['v1'], 10);
  const v2 = c(`sha256:${hex('2')}`, ['v2'], 1);
  // A signature's config has no time (cosign stamps 0001-01-01): unknown.
  const sig = (of: Candidate, suffix = 'sig') =>
    c(`sha256:${hex(of === v1 ? 'a' : 'b')}`, [`sha256-${of.digest.slice(7)}.${suffix}`], 0, {
      pushedTime: undefined,
      createdTime: undefined,
    });

  it('a rule on the images’ tags keeps a kept image’s signature and dooms a doomed image’s, which goes after it', () => {
    const candidates = [v1, v2, sig(v1), sig(v2)];
    const decisions = decide([rule('latestPushedK', 1, [sel('matches', 'v*')])], candidates, NOW);
    const of = (digest: string) => decisions.find((d) => d.candidate.digest === digest)!;
    assert.equal(of(v2.digest).verdict, 'RETAIN');
    assert.equal(of(v1.digest).verdict, 'DEL');
    assert.equal(of(sig(v2).digest).verdict, 'RETAIN');
    assert.equal(of(sig(v2).digest).protectedBy, `accessory of kept ${v2.digest}`);
    assert.equal(of(sig(v1).digest).verdict, 'DEL');
    assert.equal(of(sig(v1).digest).accessoryOf, v1.digest);
  });

  it('signatures take none of a rule’s places and are not kept by time rules of their own', () => {
    const candidates = [v1, v2, sig(v1), sig(v2, 'att')];
    // latestPushedK 1 over every tag: the signatures (unknown time) would otherwise all be kept.
    const decisions = decide([rule('latestPushedK', 1)], candidates, NOW);
    assert.deepEqual(
      decisions
        .filter((d) => d.verdict === 'DEL')
        .map((d) => d.candidate.tags[0])
        .sort(),
      ['sha256-' + hex('1') + '.sig', 'v1'],
    );
  });

  it('a signature of a kept signature is kept, whichever order they come in', () => {
    const sigOfSig = c(`sha256:${hex('c')}`, [`sha256-${hex('b')}.sig`], 0, { pushedTime: undefined, createdTime: undefined });
    for (const candidates of [
      [sigOfSig, v1, v2, sig(v2)],
      [v1, v2, sig(v2), sigOfSig],
    ]) {
      const decisions = decide([rule('latestPushedK', 1, [sel('matches', 'v*')])], candidates, NOW);
      assert.equal(decisions.find((d) => d.candidate === sigOfSig)!.verdict, 'RETAIN');
    }
  });

  it('a signature tag whose image is not a candidate (gone, or untagged) is ranked as any artifact', () => {
    const orphan = sig(v1);
    const decisions = decide([rule('latestPushedK', 1)], [v2, orphan], NOW);
    assert.equal(decisions.find((d) => d.candidate === orphan)!.accessoryOf, undefined);
    assert.equal(decisions.find((d) => d.candidate === orphan)!.verdict, 'RETAIN', 'an unknown time is kept by time rules');
  });
});

describe('retention policy schema', () => {
  const harborExport = {
    algorithm: 'or',
    id: 3,
    rules: [
      {
        id: 1,
        priority: 1,
        disabled: false,
        action: 'retain',
        params: { latestPushedK: 10 },
        scope_selectors: { repository: [{ decoration: 'repoMatches', kind: 'doublestar', pattern: '**' }] },
        tag_selectors: [{ decoration: 'matches', extras: '{"untagged":true}', kind: 'doublestar', pattern: '**' }],
        template: 'latestPushedK',
      },
    ],
    scope: { level: 'project', ref: 2 },
    trigger: { kind: 'Schedule', references: null, settings: { cron: '0 0 0 * * *' } },
  };

  it('accepts a policy exported from Harbor unchanged', () => {
    assert.ok(PolicySchema.safeParse(harborExport).success);
  });

  for (const template of ['latestPulledN', 'nDaysSinceLastPull', 'latestActiveK']) {
    it(`refuses ${template}: the registry cannot report pull times`, () => {
      const parsed = PolicySchema.safeParse({
        ...harborExport,
        rules: [{ ...harborExport.rules[0], template, params: { [template]: 3 } }],
      });
      assert.ok(!parsed.success);
      assert.match(parsed.error.message, /pull times/);
    });
  }

  it('refuses patterns too costly to match: one alone, or the tag selectors of a policy together', () => {
    const r = harborExport.rules[0]!;
    const withTagPattern = (pattern: string, rules = 1) => ({
      ...harborExport,
      rules: Array.from({ length: rules }, () => ({ ...r, tag_selectors: [{ ...r.tag_selectors[0], pattern }] })),
    });
    // 256 alternatives of 244 steps each: it held a worker's event loop for minutes on ten tags.
    const monster = PolicySchema.safeParse(withTagPattern('{a,b}'.repeat(8) + '*a'.repeat(236)));
    assert.ok(!monster.success);
    assert.match(monster.error.message, /too complex: \d+ steps once braces are expanded, at most 1024/);
    // 15 rules of 100 steps each pass one by one, not together.
    const many = PolicySchema.safeParse(withTagPattern('*a'.repeat(50), 15));
    assert.ok(!many.success);
    assert.match(many.error.message, /tag selectors are too complex together: 1500 steps/);
    // What policies carry is far below: 15 rules of {v*,release-*}.
    assert.ok(PolicySchema.safeParse(withTagPattern('{v*,release-*}', 15)).success);
    // A list of names, as Harbor's UI writes a comma-separated list, is a lookup: 3 rules over 25 services pass (1,125 steps if scanned).
    const services = `{${Array.from({ length: 25 }, (_, i) => `team-service-${i}`).join(',')}}`;
    const listed = PolicySchema.safeParse({
      ...harborExport,
      rules: Array.from({ length: 3 }, () => ({
        ...r,
        scope_selectors: { repository: [{ ...r.scope_selectors.repository[0], pattern: services }] },
      })),
    });
    assert.ok(listed.success, listed.error?.message);
    assert.ok(doublestarMatch(services, 'team-service-24') && !doublestarMatch(services, 'team-service-25'));
  });

  it('refuses more than 15 rules, a rule without tag selectors, an unknown template or algorithm, bad extras', () => {
    const r = harborExport.rules[0]!;
    const bad = [
      { ...harborExport, rules: Array.from({ length: 16 }, () => r) },
      { ...harborExport, rules: [{ ...r, tag_selectors: [] }] },
      { ...harborExport, rules: [{ ...r, template: 'newest' }] },
      { ...harborExport, algorithm: 'and' },
      { ...harborExport, rules: [{ ...r, tag_selectors: [{ ...r.tag_selectors[0], extras: 'untagged' }] }] },
      { ...harborExport, rules: [{ ...r, params: { latestPushedK: 40000 } }] },
      { ...harborExport, rules: [{ ...r, tag_selectors: [{ ...r.tag_selectors[0], decoration: 'repoMatches' }] }] },
      { ...harborExport, rules: [{ ...r, tag_selectors: [{ ...r.tag_selectors[0], pattern: '{v1,v2' }] }] },
      { ...harborExport, rules: [{ ...r, scope_selectors: { repository: [{ ...r.scope_selectors.repository[0], pattern: 'v[' }] } }] },
      { ...harborExport, rules: [{ ...r, params: {} }] },
    ];
    for (const policy of bad) assert.ok(!PolicySchema.safeParse(policy).success, JSON.stringify(policy).slice(0, 200));
    // The error names the selector at fault where the request has it.
    const badExtras = PolicySchema.safeParse(bad[4]);
    assert.ok(!badExtras.success);
    assert.deepEqual(badExtras.error.issues[0]?.path, ['rules', 0, 'tag_selectors', 0, 'extras']);
  });

  it('reads extras "" as none, as Harbor stores and reads it', () => {
    const r = harborExport.rules[0]!;
    const policy = {
      ...harborExport,
      rules: [
        {
          ...r,
          tag_selectors: [{ ...r.tag_selectors[0], extras: '' }],
          scope_selectors: { repository: [{ ...r.scope_selectors.repository[0], extras: '' }] },
        },
      ],
    };
    const parsed = PolicySchema.safeParse(policy);
    assert.ok(parsed.success, parsed.error?.message);
    // Without extras `matches` keeps untagged artifacts in its selection.
    assert.deepEqual(verdicts([parsed.data.rules[0]!], [c('t', ['x'], 1), c('u', [], 2)]).del, '');
  });

  it("keeps what the project's immutability rules match, as Harbor's retention does (Harbor's export shape accepted)", () => {
    const immutable = (decoration: 'matches' | 'excludes', pattern: string, disabled = false) =>
      ImmutableRuleSchema.parse({
        id: 1,
        project_id: 2,
        priority: 0,
        disabled,
        action: 'immutable',
        template: 'immutable_template',
        params: {},
        tag_selectors: [sel(decoration, pattern)],
        scope_selectors: { repository: [repoSel('repoMatches', '**')] },
      });
    const keepNewest = [rule('latestPushedK', 1)];
    const decisions = decide(keepNewest, CANDIDATES, NOW, [immutable('matches', 'stable'), immutable('matches', 'dev-*', true)]);
    const b = decisions.find((d) => d.candidate.digest === 'b')!;
    assert.deepEqual([b.verdict, b.protectedBy], ['RETAIN', 'immutable tag stable']);
    // The disabled rule protects nothing.
    assert.equal(decisions.find((d) => d.candidate.digest === 'd')!.verdict, 'DEL');
    // `excludes`: every tag that does not match is immutable; untagged artifacts have no tag to protect them.
    const { retain, del } = (() => {
      const all = decide(keepNewest, CANDIDATES, NOW, [immutable('excludes', 'v1.*')]);
      const pick = (v: string) =>
        all
          .filter((d) => d.verdict === v)
          .map((d) => d.candidate.digest)
          .sort()
          .join(',');
      return { retain: pick('RETAIN'), del: pick('DEL') };
    })();
    assert.deepEqual({ retain, del }, { retain: 'b,d,e', del: 'a,c,u' });
    // An index whose platform manifest is immutable stays with it, as for a manifest a rule retains.
    const withIndex = [c('img', ['pinned'], 9), c('idx', ['multi'], 8, { kind: 'index', children: ['img'] }), c('new', ['new'], 1)];
    const verdictOf = (digest: string) =>
      decide(keepNewest, withIndex, NOW, [immutable('matches', 'pinned')]).find((d) => d.candidate.digest === digest)!;
    assert.equal(verdictOf('img').protectedBy, 'immutable tag pinned');
    assert.equal(verdictOf('idx').verdict, 'RETAIN');
    assert.equal(
      ImmutableRuleSchema.safeParse({ tag_selectors: [sel('matches', 'v[')], scope_selectors: { repository: [] } }).success,
      false,
    );
    // Harbor's matcher reads a rule's first tag selector and first repository selector only (match.go).
    const narrowed = ImmutableRuleSchema.parse({
      tag_selectors: [sel('matches', 'v1.*'), sel('excludes', 'v1.0')],
      scope_selectors: { repository: [repoSel('repoMatches', '**'), repoSel('repoExcludes', 'app')] },
    });
    assert.equal(immutableRuleAppliesTo(narrowed, 'proj/app', { projectScoped: true }), true);
    const v10 = decide(keepNewest, [c('old', ['v1.0'], 9), c('new', ['dev'], 1)], NOW, [narrowed]).find(
      (d) => d.candidate.digest === 'old',
    )!;
    assert.deepEqual([v10.verdict, v10.immutable, v10.protectedBy], ['RETAIN', true, 'immutable tag v1.0']);
  });
});
