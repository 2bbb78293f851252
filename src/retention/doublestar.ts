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
 * than they look (`v***`, `v*{,-rc}`, a `/` inside braces), rather than match them differently. Matching is memoised, so no pattern takes more than
 * O(pattern × name) steps per alternative (a backtracking matcher takes seconds on `*a*a*a*a*a*a*ab`).
 */

/** At most this many alternatives after expanding braces: a policy needs a handful. */
const MAX_ALTERNATIVES = 256;
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

export class PatternError extends Error {
  constructor(pattern: string, why: string) {
    super(`pattern ${JSON.stringify(pattern)}: ${why}`);
    this.name = 'PatternError';
  }
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
 * doublestar tries what follows a '*' on the rest of the name only while some of it is left, so
 * text after a star that could match nothing (`v*{,-rc}`, `{v*,rc-*}{,-rc}`, `v*{}`) never matches
 * at the end of a segment, though it reads as if it would. What follows a star is what doublestar
 * has after it once it has taken each enclosing brace's alternative: the rest of the star's
 * alternative, then what follows each enclosing group. Stars alone (`v**`) match nothing there too.
 */
function starThenOptional(pattern: string, chars: string[]): boolean {
  let depth = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    else if (c === '*') {
      const after = textAfter(chars, i + 1, depth);
      if (after.length === 0 || after.every((a) => a === '*')) continue;
      if (expand(pattern, after).some((form) => tokens(pattern, form).every((token) => token.kind === 'star'))) return true;
    }
  }
  return false;
}

/** The text after position `from`, `depth` groups deep: the rest of its alternative, then what follows each group's `}`. */
function textAfter(chars: string[], from: number, depth: number): string[] {
  const out: string[] = [];
  let nested = 0;
  for (let j = from; j < chars.length; j++) {
    const c = chars[j]!;
    if (c === '\\') {
      out.push(c, chars[++j]!);
      continue;
    }
    if (depth > 0 && nested === 0 && (c === ',' || c === '}')) {
      // The other alternatives of the group are not what follows: on past its closing brace.
      if (c === ',') j = closingBrace(chars, j + 1);
      depth--;
      continue;
    }
    if (c === '{') nested++;
    else if (c === '}' && nested > 0) nested--;
    out.push(c);
  }
  return out;
}

/** Where the group whose alternatives go on at `from` closes. */
function closingBrace(chars: string[], from: number): number {
  let nested = 0;
  for (let j = from; j < chars.length; j++) {
    if (chars[j] === '\\') j++;
    else if (chars[j] === '{') nested++;
    else if (chars[j] === '}' && nested-- === 0) return j;
  }
  return chars.length;
}

/** Every brace-free form of a segment (as code points, escapes kept), `{a,b}c` → `ac`, `bc`. */
function expand(pattern: string, chars: string[]): string[][] {
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '\\') {
      i++;
      continue;
    }
    if (chars[i] !== '{') continue;
    const { options, end } = alternativesAt(pattern, chars, i);
    const rest = expand(pattern, chars.slice(end + 1));
    const out: string[][] = [];
    for (const option of options) {
      for (const head of expand(pattern, option)) {
        for (const tail of rest) {
          out.push([...chars.slice(0, i), ...head, ...tail]);
          if (out.length > MAX_ALTERNATIVES) throw new PatternError(pattern, `expands to more than ${MAX_ALTERNATIVES} alternatives`);
        }
      }
    }
    return out;
  }
  return [chars];
}

/** The comma-separated options of the braces opening at `open`, and where they close. */
function alternativesAt(pattern: string, chars: string[], open: number): { options: string[][]; end: number } {
  const options: string[][] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open + 1; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    else if (c === '}') {
      options.push(chars.slice(start, i));
      return { options, end: i };
    } else if (c === ',' && depth === 0) {
      options.push(chars.slice(start, i));
      start = i + 1;
    }
  }
  throw new PatternError(pattern, "a '{' is not closed");
}

/** The segments of a pattern, at each unescaped `/` (doublestar cannot read one inside braces: refused). */
function splitSegments(pattern: string, chars: string[]): string[][] {
  const segments: string[][] = [[]];
  let depth = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      if (i + 1 >= chars.length) throw new PatternError(pattern, "it ends in a lone '\\'");
      segments[segments.length - 1]!.push(c, chars[++i]!);
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    else if (c === '/' && depth > 0)
      throw new PatternError(
        pattern,
        "a '/' inside '{…}' is not read as written by Harbor's matcher: write the alternatives as whole patterns",
      );
    if (c === '/') segments.push([]);
    else segments[segments.length - 1]!.push(c);
  }
  return segments;
}

type Token =
  { kind: 'star' } | { kind: 'any' } | { kind: 'char'; c: string } | { kind: 'class'; negated: boolean; ranges: [string, string][] };
/** One segment of a pattern: `**` alone, or the brace-free forms of it, each as tokens matching one segment of a name. */
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

function tokens(pattern: string, chars: string[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') out.push({ kind: 'char', c: chars[++i]! });
    else if (c === '*') out.push({ kind: 'star' });
    else if (c === '?') out.push({ kind: 'any' });
    else if (c === '[') {
      const { token, end } = classAt(pattern, chars, i);
      out.push(token);
      i = end;
    } else out.push({ kind: 'char', c });
  }
  return out;
}

/** `[...]` from `open`: `^` negates, `a-z` is a range, `\]` escapes; empty classes and stray dashes are malformed, as in doublestar. */
function classAt(pattern: string, chars: string[], open: number): { token: Token; end: number } {
  let close = -1;
  for (let i = open + 1; i < chars.length; i++) {
    if (chars[i] === '\\') i++;
    else if (chars[i] === ']') {
      close = i;
      break;
    }
  }
  if (close === -1) throw new PatternError(pattern, "a '[' is not closed");
  const body = chars.slice(open + 1, close);
  const negated = body[0] === '^';
  const ranges: [string, string][] = [];
  const bad = (why: string) => new PatternError(pattern, `the class [${body.join('')}] ${why}`);
  let i = negated ? 1 : 0;
  if (i >= body.length) throw bad('is empty');
  const one = (): string => {
    const c = body[i++]!;
    if (c === '-') throw bad("has a '-' with nothing before it");
    if (c !== '\\') return c;
    if (i >= body.length) throw bad("ends in '\\'");
    return body[i++]!;
  };
  while (i < body.length) {
    const low = one();
    let high = low;
    if (body[i] === '-') {
      i++;
      if (i >= body.length) throw bad("ends in '-'");
      high = one();
    }
    ranges.push([low, high]);
  }
  return { token: { kind: 'class', negated, ranges }, end: close };
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
