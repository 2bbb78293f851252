/**
 * Harbor's retention policy (`pkg/retention/policy`), as a job parameter: a policy exported from
 * Harbor validates unchanged. Templates that need pull times are refused, since the OCI
 * Distribution API cannot report them (treating "never pulled" as a fact would delete images).
 */
import { z } from 'zod';
import { MAX_PATTERN_STEPS, patternCost, patternProblem } from './doublestar.js';

export const TEMPLATES = [
  'latestPushedK',
  'latestPulledN',
  'latestActiveK',
  'nDaysSinceLastPush',
  'nDaysSinceLastPull',
  'lastXDays',
  'always',
] as const;
export type Template = (typeof TEMPLATES)[number];

/** Templates that read pull times. */
export const PULL_TEMPLATES: readonly Template[] = ['latestPulledN', 'latestActiveK', 'nDaysSinceLastPull'];

/**
 * The upper bound of each template's parameter (named after the template). Harbor registers each as
 * required: a rule without it fails the repository's job there, and is refused at submit here.
 */
export const TEMPLATE_PARAMS: Partial<Record<Template, { max: number }>> = {
  latestPushedK: { max: 32766 },
  latestPulledN: { max: 32766 },
  latestActiveK: { max: 32766 },
  nDaysSinceLastPush: { max: 20190904 },
  nDaysSinceLastPull: { max: 20190904 },
  lastXDays: { max: 20190904 },
};

/** The steps of a policy's tag selectors together, and of its repository selectors (see MAX_PATTERN_STEPS). */
const MAX_POLICY_STEPS = MAX_PATTERN_STEPS;

/** A malformed pattern has its own issue: it counts nothing here. */
function safeCost(pattern: string): number {
  return patternProblem(pattern) === undefined ? patternCost(pattern) : 0;
}

export const SelectorSchema = z
  .object({
    kind: z.literal('doublestar'),
    decoration: z.enum(['matches', 'excludes', 'repoMatches', 'repoExcludes']),
    pattern: z
      .string()
      .max(512)
      .superRefine((pattern, ctx) => {
        // A pattern Harbor cannot read fails its job; one that matched nothing here would let everything go.
        const problem = patternProblem(pattern);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    /** Harbor's extras: a JSON string such as `{"untagged":true}`. */
    extras: z.string().max(1024).optional(),
  })
  .strict();
export type Selector = z.infer<typeof SelectorSchema>;

const TagSelectors = z
  .array(
    SelectorSchema.refine(
      (s) => s.decoration === 'matches' || s.decoration === 'excludes',
      'a tag selector decorates with matches or excludes',
    ),
  )
  .min(1, 'a rule needs at least one tag selector (Harbor skips a rule without one silently)')
  .max(16);

const ScopeSelectors = z
  .object({
    repository: z
      .array(
        SelectorSchema.refine(
          (s) => s.decoration === 'repoMatches' || s.decoration === 'repoExcludes',
          'a repository selector decorates with repoMatches or repoExcludes',
        ),
      )
      .max(16)
      .default([]),
  })
  .strict()
  .default({ repository: [] });

/**
 * A tag immutability rule as Harbor's API exports a project's (`/projects/{p}/immutabletagrules`):
 * Harbor's retention never deletes an artifact with a tag one of them matches.
 */
export const ImmutableRuleSchema = z
  .object({
    id: z.number().int().optional(),
    project_id: z.number().int().optional(),
    priority: z.number().int().optional(),
    disabled: z.boolean().optional(),
    action: z.literal('immutable').optional(),
    template: z.literal('immutable_template').optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    tag_selectors: TagSelectors,
    scope_selectors: ScopeSelectors,
  })
  .strict();
export type ImmutableRule = z.infer<typeof ImmutableRuleSchema>;

export const RuleSchema = z
  .object({
    id: z.number().int().optional(),
    priority: z.number().int().optional(),
    disabled: z.boolean().optional(),
    action: z.literal('retain'),
    template: z.enum(TEMPLATES),
    params: z.record(z.string(), z.number().int().min(0)).default({}),
    tag_selectors: TagSelectors,
    scope_selectors: ScopeSelectors,
  })
  .strict()
  .superRefine((rule, ctx) => {
    const bounds = TEMPLATE_PARAMS[rule.template];
    const value = rule.params[rule.template];
    if (bounds && value !== undefined && value > bounds.max) {
      ctx.addIssue({ code: 'custom', path: ['params', rule.template], message: `must be at most ${bounds.max}` });
    }
    if (bounds && value === undefined && !rule.disabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['params', rule.template],
        message: `is required: ${rule.template} keeps by this number (Harbor fails the job without it)`,
      });
    }
    if (PULL_TEMPLATES.includes(rule.template)) {
      ctx.addIssue({
        code: 'custom',
        path: ['template'],
        message: `${rule.template} needs pull times, which the OCI Distribution API does not report; use latestPushedK, nDaysSinceLastPush, lastXDays or always`,
      });
    }
    // Harbor's stored policies say `"extras": ""` for none, and read it so: so does this schema.
    const selectors = [
      ...rule.tag_selectors.map((selector, i) => ({ selector, path: ['tag_selectors', i] })),
      ...rule.scope_selectors.repository.map((selector, i) => ({ selector, path: ['scope_selectors', 'repository', i] })),
    ];
    for (const { selector, path } of selectors) {
      if (selector.extras !== undefined && selector.extras !== '' && parseExtras(selector.extras) === undefined) {
        ctx.addIssue({ code: 'custom', path: [...path, 'extras'], message: 'must be a JSON object such as {"untagged":true}' });
      }
    }
  });
export type Rule = z.infer<typeof RuleSchema>;

export const PolicySchema = z
  .object({
    id: z.number().int().optional(),
    algorithm: z.literal('or'),
    rules: z.array(RuleSchema).min(1).max(15),
    /** The project's tag immutability rules (Harbor keeps them apart from the policy): what they match is never deleted. */
    immutable_rules: z.array(ImmutableRuleSchema).max(15).optional(),
    // Harbor's own bookkeeping, accepted so an exported policy works unchanged; the job's schedule is its cron_spec.
    trigger: z.unknown().optional(),
    scope: z.unknown().optional(),
  })
  .strict()
  .superRefine((policy, ctx) => {
    // Every tag of every artifact meets every tag selector, and every repository name every
    // repository selector, synchronously in the run: their steps together are bounded.
    for (const [kind, selectorsOf] of [
      ['tag', (rule: Pick<Rule, 'tag_selectors'>) => rule.tag_selectors],
      ['repository', (rule: Pick<Rule, 'scope_selectors'>) => rule.scope_selectors.repository],
    ] as const) {
      let steps = 0;
      for (const rule of [...policy.rules, ...(policy.immutable_rules ?? [])])
        for (const selector of selectorsOf(rule)) steps += safeCost(selector.pattern);
      if (steps > MAX_POLICY_STEPS) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules'],
          message: `its ${kind} selectors are too complex together: ${steps} steps once braces are expanded, at most ${MAX_POLICY_STEPS}`,
        });
      }
    }
  });
export type Policy = z.infer<typeof PolicySchema>;

/** `{"untagged": bool}` from a selector's extras, or undefined when it is not that shape. */
export function parseExtras(extras: string): { untagged?: boolean } | undefined {
  try {
    const value = JSON.parse(extras) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const untagged = (value as { untagged?: unknown }).untagged;
    if (untagged !== undefined && typeof untagged !== 'boolean') return undefined;
    return untagged === undefined ? {} : { untagged };
  } catch {
    return undefined;
  }
}
