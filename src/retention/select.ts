/**
 * Which artifacts of one repository a policy retains: Harbor's OR algorithm. A rule's tag
 * selectors are ANDed, its evaluator picks from what they select, the rules' picks are united,
 * and every other artifact is a deletion target — except one an index still needs, or an index
 * whose manifests are retained. Pure: no I/O.
 */
import { doublestarMatch } from './doublestar.js';
import { parseExtras, type Rule, type Selector } from './policy-schema.js';

/** One artifact: a manifest digest and every tag on it (Harbor's candidate). Times are unix seconds. */
export interface Candidate {
  digest: string;
  tags: string[];
  kind: 'image' | 'index';
  /** Unknown when the image records no plausible build time: such an artifact counts as the newest, so no time rule deletes it. */
  pushedTime: number | undefined;
  pulledTime: number;
  createdTime: number | undefined;
  /** The manifests an index references. */
  children?: string[];
}

export type Verdict = 'RETAIN' | 'DEL';

export interface Decision {
  candidate: Candidate;
  verdict: Verdict;
  /** Why a candidate no rule retained is kept all the same. */
  protectedBy?: string;
}

const DAY = 24 * 3600;

/**
 * Whether a repository is in a rule's scope: every repository selector must hold. Harbor matches
 * the name without its project (`app` of `proj/app`), since a policy belongs to a project; a plain
 * registry's paths are written whole (`proj/**`). A pattern holds when it matches either, so a
 * policy exported from Harbor applies where Harbor applied it, and a rule written for a path too.
 */
export function ruleAppliesTo(rule: Rule, repository: string): boolean {
  const slash = repository.indexOf('/');
  const names = slash < 0 ? [repository] : [repository, repository.slice(slash + 1)];
  return rule.scope_selectors.repository.every((s) => {
    const matched = names.some((name) => doublestarMatch(s.pattern, name));
    return s.decoration === 'repoMatches' ? matched : !matched;
  });
}

function selectByTag(selector: Selector, candidates: Candidate[]): Candidate[] {
  const matches = selector.decoration === 'matches';
  // As Harbor reads extras: absent, `matches` keeps untagged artifacts and `excludes` does not; given, it says (`{}` is false).
  const untagged = selector.extras ? (parseExtras(selector.extras)?.untagged ?? false) : matches;
  return candidates.filter((c) => {
    if (c.tags.length === 0) return matches ? untagged : !untagged;
    return matches ? c.tags.some((t) => doublestarMatch(selector.pattern, t)) : c.tags.some((t) => !doublestarMatch(selector.pattern, t));
  });
}

function evaluate(rule: Rule, selected: Candidate[], now: number): Candidate[] {
  // The schema makes an enabled rule carry its template's parameter, as Harbor requires it.
  const n = rule.params[rule.template] ?? 0;
  const pushed = (c: Candidate) => c.pushedTime ?? Number.POSITIVE_INFINITY;
  const newestFirst = (by: (c: Candidate) => number) =>
    [...selected].sort((a, b) => (by(b) === by(a) ? 0 : by(b) > by(a) ? 1 : -1) || a.digest.localeCompare(b.digest));
  switch (rule.template) {
    case 'latestPushedK':
      return newestFirst(pushed).slice(0, n);
    case 'latestPulledN':
      return newestFirst((c) => c.pulledTime).slice(0, n);
    case 'latestActiveK':
      return newestFirst((c) => Math.max(c.pulledTime, pushed(c))).slice(0, n);
    case 'nDaysSinceLastPush':
      return selected.filter((c) => pushed(c) >= now - n * DAY);
    case 'nDaysSinceLastPull':
      return selected.filter((c) => c.pulledTime >= now - n * DAY);
    case 'lastXDays':
      return selected.filter((c) => pushed(c) > now - n * DAY);
    case 'always':
      return selected;
  }
}

/** The verdict on every candidate of a repository under the rules that apply to it (disabled rules skipped). */
export function decide(rules: readonly Rule[], candidates: Candidate[], now: number): Decision[] {
  const retained = new Set<string>();
  for (const rule of rules) {
    if (rule.disabled) continue;
    const selected = rule.tag_selectors.reduce((pool, selector) => selectByTag(selector, pool), candidates);
    for (const c of evaluate(rule, selected, now)) retained.add(c.digest);
  }
  const decisions = candidates.map((candidate): Decision => ({ candidate, verdict: retained.has(candidate.digest) ? 'RETAIN' : 'DEL' }));
  // Deleting a manifest an index references would break the index; deleting an index whose
  // manifests are retained would drop their platform list. Both stay, and the table says why.
  const retainedIndexChildren = new Map<string, string>();
  for (const c of candidates) {
    if (retained.has(c.digest)) for (const child of c.children ?? []) retainedIndexChildren.set(child, c.digest);
  }
  for (const d of decisions) {
    if (d.verdict !== 'DEL') continue;
    const parent = retainedIndexChildren.get(d.candidate.digest);
    const keptChild = d.candidate.children?.find((child) => retained.has(child));
    if (parent) d.protectedBy = `referenced by retained index ${parent}`;
    else if (keptChild) d.protectedBy = `index of retained manifest ${keptChild}`;
    if (d.protectedBy) d.verdict = 'RETAIN';
  }
  return decisions;
}
