/**
 * Pattern matching as Harbor's retention selectors do it: bmatcuk/doublestar v1's `Match` with `/`
 * as the separator (Harbor pins v1.3.4), and an empty pattern matching everything.
 *
 * - `*` is any run within one path segment, `?` one character of it, `[a-z]`/`[^a-z]` a class,
 *   `\c` the character c; `{a,b}` alternatives (nested, empty ones allowed);
 * - `**` as a whole segment is any number of segments (`a/**` needs one more segment, `**` alone
 *   matches anything); elsewhere it is two stars;
 * - nothing else is special: `!x` is the text `!x`, `+(a)` is that text, `{1..3}` one alternative.
 *
 * Harbor fails the job on a malformed pattern (`ErrBadPattern`), and only once matching reaches it;
 * here `patternProblem` refuses one at submit, where it would otherwise match nothing and let
 * everything be deleted. It also refuses the few well-formed patterns doublestar reads otherwise
 * than they look (`v***`, `v*{,-rc}`, a `/` inside braces, a brace inside a class:
 * doublestar-parse.ts), rather than match them differently. Matching is memoised, so no pattern takes more than
 * O(pattern × name) steps per alternative (a backtracking matcher takes seconds on `*a*a*a*a*a*a*ab`).
 */

import { braceInClass, expand, PatternError, splitSegments, starThenOptional, tokens, type Token } from './doublestar-parse.js';

export { PatternError };

/**
 * At most this many steps (tokens over every alternative) in one pattern: matching a name costs
 * steps × its length, for every tag of every artifact, synchronously. A policy's patterns are a
 * few dozen steps; `{a,b}` eight times before 236 `*a` (60,000 steps) held a worker's event loop
 * for minutes on ten tags.
 */
export const MAX_PATTERN_STEPS = 1024;

/** Why a pattern is malformed, or undefined when it is not. */
export function patternProblem(pattern: string): string | undefined {
  try {
    compile(pattern);
    return undefined;
  } catch (err) {
    if (err instanceof PatternError) return err.message;
    throw err;
  }
}

/** Whether `name` matches `pattern`; a malformed pattern throws a PatternError. */
export function doublestarMatch(pattern: string, name: string): boolean {
  return compile(pattern)(name);
}

type Matcher = (name: string) => boolean;
const compiled = new Map<string, Matcher>();

/** A matcher for one pattern, kept: a policy's few patterns are matched against every tag. */
function compile(pattern: string): Matcher {
  let matcher = compiled.get(pattern);
  if (!matcher) {
    matcher = build(pattern);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, matcher);
  }
  return matcher;
}

function build(pattern: string): Matcher {
  if (pattern === '') return () => true;
  if (splitSegments(pattern, [...pattern]).some((chars) => starThenOptional(pattern, chars))) {
    throw new PatternError(
      pattern,
      "an alternative that is empty right after a '*' does not match as it reads in Harbor: list the forms without it",
    );
  }
  if (braceInClass([...pattern]))
    throw new PatternError(pattern, "a '{', '}' or ',' inside '[…]' is a member of the class for Harbor's matcher: escape it (\\{)");
  // Three or more stars cannot match nothing in doublestar (`v***` is not `v`), unlike one or two.
  if (/(?<!\\)\*\*\*/.test(pattern))
    throw new PatternError(pattern, "'***' is read differently by Harbor's matcher (it never matches nothing): write '*' or '**'");
  const segments = segmentsOf(pattern);
  const steps = patternSteps(segments);
  if (steps > MAX_PATTERN_STEPS) {
    throw new PatternError(pattern, `is too complex: ${steps} steps once braces are expanded, at most ${MAX_PATTERN_STEPS}`);
  }
  return (name) =>
    matchSegments(
      segments,
      name.split('/').map((part) => [...part]),
    );
}

/**
 * A path segment: `**`, or its brace alternatives, those without a wildcard in a set (a list of
 * names, as Harbor's UI writes a comma-separated list, is a lookup, not a scan per name).
 */
type Segment = 'globstar' | { literals: Set<string>; forms: Token[][] };

function patternSteps(segments: Segment[]): number {
  return segments.reduce(
    (sum, segment) =>
      sum + (segment === 'globstar' ? 1 : segment.literals.size + segment.forms.reduce((n, form) => n + Math.max(1, form.length), 0)),
    0,
  );
}

/** A well-formed pattern's steps (see MAX_PATTERN_STEPS); a malformed one throws a PatternError. */
export function patternCost(pattern: string): number {
  return pattern === '' ? 1 : patternSteps(segmentsOf(pattern));
}

function segmentsOf(pattern: string): Segment[] {
  // Only a segment that is `**` as written crosses segments (`{,a}**` is two stars in one segment).
  return splitSegments(pattern, [...pattern]).map((chars): Segment => {
    if (chars.length === 2 && chars[0] === '*' && chars[1] === '*') return 'globstar';
    const literals = new Set<string>();
    const forms: Token[][] = [];
    for (const form of expand(pattern, chars).map((alternative) => tokens(pattern, alternative))) {
      if (form.every((token) => token.kind === 'char')) literals.add(form.map((token) => (token as { c: string }).c).join(''));
      else forms.push(form);
    }
    return { literals, forms };
  });
}

function matchSegments(segments: Segment[], parts: string[][]): boolean {
  const memo = new Map<number, boolean>();
  const from = (s: number, p: number): boolean => {
    const key = s * (parts.length + 1) + p;
    let result = memo.get(key);
    if (result !== undefined) return result;
    const seg = segments[s];
    if (seg === undefined) result = p === parts.length;
    else if (seg === 'globstar') {
      // Last: whatever is left, but something (`a/**` is not `a`; `**` alone is everything). Otherwise the
      // rest must match from one of the remaining parts (`a/**/b` is `a/b` too).
      if (s === segments.length - 1) result = p < parts.length;
      else {
        result = false;
        for (let q = p; q < parts.length && !result; q++) result = from(s + 1, q);
      }
    } else
      result =
        p < parts.length &&
        (seg.literals.has(parts[p]!.join('')) || seg.forms.some((form) => matchTokens(form, parts[p]!))) &&
        from(s + 1, p + 1);
    memo.set(key, result);
    return result;
  };
  return from(0, 0);
}

/** One segment against one part of the name, by dynamic programming (no backtracking blow-up). */
function matchTokens(tokens: Token[], chars: string[]): boolean {
  // reach[j]: the tokens so far can consume exactly chars[0..j).
  let reach = new Array<boolean>(chars.length + 1).fill(false);
  reach[0] = true;
  for (const token of tokens) {
    const next = new Array<boolean>(chars.length + 1).fill(false);
    if (token.kind === 'star') {
      let open = false;
      for (let j = 0; j <= chars.length; j++) {
        open ||= reach[j]!;
        next[j] = open;
      }
    } else {
      for (let j = 0; j < chars.length; j++) if (reach[j] && single(token, chars[j]!)) next[j + 1] = true;
    }
    reach = next;
  }
  return reach[chars.length]!;
}

function single(token: Exclude<Token, { kind: 'star' }>, c: string): boolean {
  if (token.kind === 'any') return true;
  if (token.kind === 'char') return token.c === c;
  const code = c.codePointAt(0)!;
  const inside = token.ranges.some(([low, high]) => low.codePointAt(0)! <= code && code <= high.codePointAt(0)!);
  return inside !== token.negated;
}
