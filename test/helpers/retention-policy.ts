/** A one-rule retention policy in Harbor's shape: `template` with parameter `n`, over tags matching `tagPattern`, in every repository. */
export function oneRulePolicy(template = 'latestPushedK', n = 1, tagPattern = '**') {
  return {
    algorithm: 'or',
    rules: [
      {
        action: 'retain',
        template,
        params: { [template]: n },
        tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: tagPattern }],
        scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
      },
    ],
  };
}
