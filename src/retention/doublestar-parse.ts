/**
 * Reading a doublestar pattern as Harbor's matcher (bmatcuk/doublestar v1.3.4) does: its brace
 * alternatives, its path segments, its tokens and classes, and the constructs it reads otherwise
 * than they look (see doublestar.ts). Pure: no matching here.
 */

/** At most this many alternatives after expanding braces: a policy needs a handful. */
const MAX_ALTERNATIVES = 256;

export class PatternError extends Error {
  constructor(pattern: string, why: string) {
    super(`pattern ${JSON.stringify(pattern)}: ${why}`);
    this.name = 'PatternError';
  }
}

/**
 * doublestar tries what follows a '*' on the rest of the name only while some of it is left, so
 * text after a star that could match nothing (`v*{,-rc}`, `{v*,rc-*}{,-rc}`, `v*{}`) never matches
 * at the end of a segment, though it reads as if it would. What follows a star is what doublestar
 * has after it once it has taken each enclosing brace's alternative: the rest of the star's
 * alternative, then what follows each enclosing group. Stars alone (`v**`) match nothing there too.
 */
export function starThenOptional(pattern: string, chars: string[]): boolean {
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
export function expand(pattern: string, chars: string[]): string[][] {
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
export function splitSegments(pattern: string, chars: string[]): string[][] {
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

/**
 * doublestar reads a class before braces: `{`, `}` (and `,` within braces) inside `[…]` are members
 * of the class, where expanding braces first would split it (`[^{a,b}]` would match `a`). Such a
 * pattern is refused, as the others Harbor reads otherwise than they look; escaped, they are plain.
 */
export function braceInClass(chars: string[]): boolean {
  let depth = 0;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    else if (c === '[') {
      for (i++; i < chars.length && chars[i] !== ']'; i++) {
        if (chars[i] === '\\') i++;
        else if (chars[i] === '{' || chars[i] === '}' || (chars[i] === ',' && depth > 0)) return true;
      }
    }
  }
  return false;
}

export type Token =
  { kind: 'star' } | { kind: 'any' } | { kind: 'char'; c: string } | { kind: 'class'; negated: boolean; ranges: [string, string][] };

export function tokens(pattern: string, chars: string[]): Token[] {
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
