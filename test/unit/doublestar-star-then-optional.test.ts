/**
 * A `*` followed, once braces are expanded, by a group that can match nothing. doublestar v1.3.4
 * (Harbor's matcher) tries what follows a `*` only while some of the name is left, so such a group
 * never matches at the end of a tag. A check on the written text (`*{,` / `*{…,}`) let the same
 * construct reached through braces or nesting through, matched the way it reads.
 * Expected answers were taken by running bmatcuk/doublestar v1.3.4 `Match` on each pair.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doublestarMatch, patternProblem } from '../../src/retention/doublestar.js';
import { PolicySchema, RuleSchema } from '../../src/retention/policy-schema.js';
import { decide, type Candidate } from '../../src/retention/select.js';

const DAY = 86_400;
const NOW = 1_800_000_000;
const c = (digest: string, tag: string, ageDays: number): Candidate => ({
  digest,
  tags: [tag],
  kind: 'image',
  pushedTime: NOW - ageDays * DAY,
  pulledTime: 0,
  createdTime: NOW - ageDays * DAY,
});

/** [pattern, tag, what doublestar v1.3.4 Match answered]. */
const HARBOR: [string, string, boolean][] = [
  ['{v*,release-*}{,-rc}', 'v1', false],
  ['{v*,release-*}{,-rc}', 'v1-rc', true],
  ['{v*,release-*}{,-rc}', 'release-2', false],
  ['{v*,release-*}{,-rc}', 'release-2-rc', true],
  ['v*{{-rc,-beta},}', 'v1', false],
  ['v*{{-rc,-beta},}', 'v1-beta', true],
  ['{v*}{,-rc}', 'v1', false],
];

describe('a star followed by what can match nothing, reached through braces', () => {
  it('is either refused at submit or matched as Harbor matches it', () => {
    const wrong = HARBOR.filter(
      ([pattern, tag, harbor]) => patternProblem(pattern) === undefined && doublestarMatch(pattern, tag) !== harbor,
    ).map(([pattern, tag, harbor]) => `${pattern} vs ${tag}: Harbor ${harbor}, here ${!harbor}`);
    assert.deepEqual(wrong, []);
  });

  it('latestPushedK over such a pattern keeps what Harbor keeps (the newest release candidates)', () => {
    const pattern = '{v*,release-*}{,-rc}';
    const rule = {
      action: 'retain',
      template: 'latestPushedK',
      params: { latestPushedK: 2 },
      tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern, extras: '{"untagged":false}' }],
      scope_selectors: { repository: [] },
    };
    // If the policy is refused at submit, nothing is deleted: that is as safe as Harbor's answer.
    if (!PolicySchema.safeParse({ algorithm: 'or', rules: [rule] }).success) return;
    const candidates = [c('rc1', 'v1-rc', 9), c('rc2', 'v2-rc', 8), c('v3', 'v3', 2), c('rel4', 'release-4', 1)];
    const decisions = decide([RuleSchema.parse(rule)], candidates, NOW);
    const retained = decisions
      .filter((d) => d.verdict === 'RETAIN')
      .map((d) => d.candidate.digest)
      .sort();
    // Harbor's selector picks only the -rc tags, so the two release candidates fill the 2 places.
    assert.deepEqual(retained, ['rc1', 'rc2']);
  });
});
