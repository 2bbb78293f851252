/**
 * Which artifacts of one repository a policy retains: Harbor's OR algorithm. A rule's tag
 * selectors are ANDed, its evaluator picks from what they select, the rules' picks are united,
 * and every other artifact is a deletion target — except one an index still needs, or an index
 * whose manifests are retained. Pure: no I/O.
 */
import { doublestarMatch } from './doublestar.js';
import { parseExtras, type ImmutableRule, type Rule, type Selector } from './policy-schema.js';

/** One artifact: a manifest digest and every tag on it (Harbor's candidate). Times are unix seconds. */
export interface Candidate {
  digest: string;
  tags: string[];
  kind: 'image' | 'index';
  /** Unknown when the image records no plausible build time: every time rule keeps such an artifact, and it takes none of a rule's K places. */
  pushedTime: number | undefined;
  pulledTime: number;
  createdTime: number | undefined;
  /** The manifests an index references, directly or through inner indexes. */
  children?: string[];
}

export type Verdict = 'RETAIN' | 'DEL';

export interface Decision {
  candidate: Candidate;
  verdict: Verdict;
  /** Why a candidate no rule retained is kept all the same. */
  protectedBy?: string;
  /** Kept only by an immutability rule: Harbor's table says IMMUTABLE for it. */
  immutable?: true;
  /** An accessory (a cosign signature, attestation or SBOM tag): the digest of the artifact it belongs to. */
  accessoryOf?: string;
}

/**
 * The tag of what is attached to an artifact, naming it by digest: cosign's
 * `sha256-<hex of the subject's digest>.sig|.att|.sbom`, and OCI 1.1's referrers tag
 * `sha256-<hex>` (the index of a subject's signatures and SBOMs on a registry without the
 * referrers API; an image under such a tag is an image like any other).
 */
const ACCESSORY_TAG = /^sha256-([0-9a-f]{64})(\.(?:sig|att|sbom))?$/;

/**
 * The subject of an accessory candidate: one whose every tag is an accessory's tag for one artifact
 * of the repository, a candidate or a manifest an index lists (`cosign sign --recursive` signs each
 * platform of an image). Harbor keeps such accessories with their subject and deletes them with it;
 * ranked by rules of their own they would be kept for ever (a signature's config has no time) or
 * deleted from under a kept image (a rule on `v*` doomed every signature).
 */
function accessorySubject(candidate: Candidate, known: ReadonlySet<string>): string | undefined {
  const subjects = new Set(
    candidate.tags.map((tag) => {
      const match = ACCESSORY_TAG.exec(tag);
      return match && (match[2] !== undefined || candidate.kind === 'index') ? match[1] : undefined;
    }),
  );
  if (subjects.size !== 1 || subjects.has(undefined)) return undefined;
  const subject = `sha256:${[...subjects][0]}`;
  return subject !== candidate.digest && known.has(subject) ? subject : undefined;
}

const DAY = 24 * 3600;

/**
 * Whether a repository is in a rule's scope: every repository selector must hold. Harbor matches
 * the name without its project (`app` of `proj/app`), since a policy belongs to a project; a plain
 * registry's paths are written whole (`proj/**`). A policy exported from Harbor (its `scope` is a
 * project's) is read as Harbor reads it; in any other a pattern holds when it matches either name,
 * so a rule written either way applies.
 */
export function ruleAppliesTo(rule: Pick<Rule, 'scope_selectors'>, repository: string, { projectScoped = false } = {}): boolean {
  const slash = repository.indexOf('/');
  const names = slash < 0 ? [repository] : projectScoped ? [repository.slice(slash + 1)] : [repository, repository.slice(slash + 1)];
  return rule.scope_selectors.repository.every((s) => {
    const matched = names.some((name) => doublestarMatch(s.pattern, name));
    return s.decoration === 'repoMatches' ? matched : !matched;
  });
}

/**
 * Whether an immutability rule applies to a repository. Harbor's matcher reads only its first
 * repository selector (see immutableBy). One without any applies everywhere here, where Harbor
 * skips it: protecting more is the safe side of a disagreement.
 */
export function immutableRuleAppliesTo(rule: ImmutableRule, repository: string, options: { projectScoped?: boolean } = {}): boolean {
  return ruleAppliesTo({ scope_selectors: { repository: rule.scope_selectors.repository.slice(0, 1) } }, repository, options);
}

/** Whether a policy is Harbor's, exported with the project it belongs to (`"scope": {"level": "project", …}`). */
export function isProjectScoped(policy: { scope?: unknown }): boolean {
  const { scope } = policy;
  return typeof scope === 'object' && scope !== null && (scope as { level?: unknown }).level === 'project';
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
  const newestFirst = (pool: Candidate[], by: (c: Candidate) => number) =>
    [...pool].sort((a, b) => (by(b) === by(a) ? 0 : by(b) > by(a) ? 1 : -1) || a.digest.localeCompare(b.digest));
  // An unknown push time (a cosign signature's empty config, a reproducible build's 1970) is kept
  // by every time rule but takes none of the K places: ranked as the newest, a repository's
  // signatures would fill them and its real newest images would go.
  const unknown = selected.filter((c) => c.pushedTime === undefined);
  const known = selected.filter((c) => c.pushedTime !== undefined);
  switch (rule.template) {
    case 'latestPushedK':
      return [...unknown, ...newestFirst(known, pushed).slice(0, n)];
    case 'latestPulledN':
      return newestFirst(selected, (c) => c.pulledTime).slice(0, n);
    case 'latestActiveK':
      return [...unknown, ...newestFirst(known, (c) => Math.max(c.pulledTime, pushed(c))).slice(0, n)];
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

/**
 * What makes a candidate immutable: the first of its tags an enabled immutability rule matches. As
 * Harbor's matcher reads a rule (immutable/match/rule/match.go): by its first tag selector only, the
 * rest ignored (reading them all would protect less than Harbor does). Its selector's extras keep
 * untagged artifacts out under both decorations.
 */
function immutableBy(candidate: Candidate, immutable: readonly ImmutableRule[]): string | undefined {
  const firsts = immutable.filter((rule) => !rule.disabled).map((rule) => rule.tag_selectors[0]!);
  const tag = candidate.tags.find((t) => firsts.some((s) => doublestarMatch(s.pattern, t) === (s.decoration === 'matches')));
  return tag === undefined ? undefined : `tag ${tag}`;
}

/**
 * The verdict on every candidate of a repository under the rules that apply to it (disabled rules
 * skipped); `immutable`, the immutability rules that apply to it: an artifact with a tag they
 * match is retained as a rule's would be, as Harbor's retention never deletes one.
 */
export function decide(rules: readonly Rule[], candidates: Candidate[], now: number, immutable: readonly ImmutableRule[] = []): Decision[] {
  const known = new Set(candidates.flatMap((c) => [c.digest, ...(c.children ?? [])]));
  const subjects = new Map(candidates.map((c) => [c.digest, accessorySubject(c, known)] as const));
  // Accessories take no part in the rules: they follow their subject (below).
  const artifacts = candidates.filter((c) => subjects.get(c.digest) === undefined);
  const retained = new Set<string>();
  for (const rule of rules) {
    if (rule.disabled) continue;
    const selected = rule.tag_selectors.reduce((pool, selector) => selectByTag(selector, pool), artifacts);
    for (const c of evaluate(rule, selected, now)) retained.add(c.digest);
  }
  const decisions = candidates.map((candidate): Decision => {
    if (retained.has(candidate.digest)) return { candidate, verdict: 'RETAIN' };
    const by = subjects.get(candidate.digest) === undefined ? immutableBy(candidate, immutable) : undefined;
    if (by === undefined) return { candidate, verdict: 'DEL' };
    retained.add(candidate.digest);
    return { candidate, verdict: 'RETAIN', immutable: true, protectedBy: `immutable ${by}` };
  });
  // Deleting a manifest a kept index references would break the index (Harbor refuses to delete an
  // artifact another references); deleting an index whose manifest a rule retains would drop that
  // manifest's platform list. Both stay, and the table says why. An index is kept for a manifest a
  // rule retains, not for one only kept by another index: two releases sharing a platform image
  // would otherwise keep each other forever. What a kept index references stays, nested too.
  const kept = new Set(retained);
  const byDigest = new Map(decisions.map((d) => [d.candidate.digest, d]));
  const keep = (d: Decision, why: string) => {
    d.verdict = 'RETAIN';
    d.protectedBy = why;
    kept.add(d.candidate.digest);
  };
  for (const d of decisions) {
    const retainedChild = d.verdict === 'DEL' ? d.candidate.children?.find((child) => retained.has(child)) : undefined;
    if (retainedChild) keep(d, `index of retained manifest ${retainedChild}`);
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const index of candidates) {
      if (!kept.has(index.digest)) continue;
      for (const child of index.children ?? []) {
        const d = byDigest.get(child);
        if (!d || d.verdict !== 'DEL') continue;
        keep(d, `referenced by ${retained.has(index.digest) ? 'retained' : 'kept'} index ${index.digest}`);
        changed = true;
      }
    }
  }
  // A manifest that is not a candidate (an index's platform image) is kept with an index that lists it.
  const listedByKept = new Set(candidates.filter((c) => kept.has(c.digest)).flatMap((c) => c.children ?? []));
  // Until nothing changes: an accessory of an accessory (a signed signature) follows it in turn.
  for (let changed = true; changed;) {
    changed = false;
    for (const d of decisions) {
      const subject = subjects.get(d.candidate.digest);
      if (subject === undefined) continue;
      d.accessoryOf = subject;
      if (d.verdict === 'DEL' && (kept.has(subject) || listedByKept.has(subject))) {
        keep(d, `accessory of kept ${subject}`);
        changed = true;
      }
    }
  }
  return decisions;
}
