import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { doublestarMatch, patternProblem } from '../../src/retention/doublestar.js';

const fixture = JSON.parse(readFileSync(new URL('./doublestar-v1.3.4-cases.json', import.meta.url), 'utf8')) as {
  cases: [string, string, boolean][];
  malformed: string[];
};

describe("retention patterns read as Harbor's doublestar v1.3.4 reads them", () => {
  it(`matches as doublestar did on ${fixture.cases.length} recorded pattern/name pairs`, () => {
    const wrong = fixture.cases.filter(([pattern, name, matched]) => doublestarMatch(pattern, name) !== matched);
    assert.deepEqual(wrong, []);
    assert.ok(fixture.cases.some(([, , m]) => m) && fixture.cases.some(([, , m]) => !m), 'both outcomes are recorded');
  });

  it('gives nothing special to what picomatch would (negation, extglobs, brace ranges, POSIX classes)', () => {
    for (const [pattern, name] of [
      ['!latest', 'v1'],
      ['@(a|b)', 'a'],
      ['+(1)', '1'],
      ['{1..3}', '2'],
      ['[[:alpha:]]', 'b'],
    ]) {
      assert.equal(doublestarMatch(pattern!, name!), false, pattern);
    }
    assert.equal(doublestarMatch('!latest', '!latest'), true);
  });

  it('crosses segments only with a whole ** segment, which needs one more segment after a prefix', () => {
    assert.equal(doublestarMatch('proj/**', 'proj'), false);
    assert.equal(doublestarMatch('proj/**', 'proj/app/x'), true);
    assert.equal(doublestarMatch('**/app', 'app'), true);
    assert.equal(doublestarMatch('a/**/b', 'a/b'), true);
    assert.equal(doublestarMatch('*', 'proj/app'), false);
    assert.equal(doublestarMatch('', 'anything/at/all'), true, "Harbor's selector takes an empty pattern as everything");
  });

  it(`refuses the ${fixture.malformed.length} patterns doublestar answered ErrBadPattern for`, () => {
    assert.deepEqual(
      fixture.malformed.filter((p) => patternProblem(p) === undefined),
      [],
    );
  });

  it('refuses patterns Harbor reads differently from how they read, naming why', () => {
    for (const [pattern, why] of [
      ['v*{,-rc}', /empty right after a '\*'/],
      ['v***', /'\*\*\*'/],
      ['{proj/app,other}', /'\/' inside/],
      ['v[', /'\[' is not closed/],
      ['{v1,v2', /'\{' is not closed/],
      ['[]', /is empty/],
      ['[-a]', /'-' with nothing before it/],
      ['v\\', /lone/],
      // doublestar reads a class first: these braces and commas are its members, not alternatives.
      ['[^{a,b}]', /inside '\[…\]' is a member/],
      ['*[^{a,b}]', /inside '\[…\]' is a member/],
      ['v[}]', /inside '\[…\]' is a member/],
      ['{a,v[,.]}', /inside '\[…\]' is a member/],
    ] as const) {
      assert.match(patternProblem(pattern) ?? 'accepted', why, pattern);
    }
    for (const fine of ['**', 'v*', '{latest,stable}', 'release-[0-9]*', 'v1.\\*', '{,x}y', 'a/**/b', 'v[,.]', '[\\{]x'])
      assert.equal(patternProblem(fine), undefined, fine);
  });
});
