import { doublestarMatch } from '../../retention/doublestar.js';
import { isProjectScoped, ruleAppliesTo } from '../../retention/select.js';
import { defineJob } from '../define-job.js';
import { RetentionParams, type RetentionRepositoryParams } from './retention-params.js';
import { registryClient, type RegistrySettings } from './retention-settings.js';

/**
 * Harbor's tag retention over one registry: one RETENTION_REPOSITORY sub job per repository in
 * scope (a child workflow), `concurrency.repositories` at a time. Deletes in flight across the
 * execution stay within `concurrency.deletes`: each running repository gets an equal share.
 */
export function retentionJob(settings: RegistrySettings) {
  return defineJob({
    name: 'RETENTION',
    maxFails: 1,
    params: RetentionParams,
    async run() {
      throw new Error('RETENTION runs as a fan-out of RETENTION_REPOSITORY jobs');
    },
    fanOut: {
      child: 'RETENTION_REPOSITORY',
      async plan(ctx, params) {
        const { registry, scope, policy, dry_run } = params;
        ctx.logger.info(`retention of ${registry.url}: ${policy.rules.length} rule(s), algorithm ${policy.algorithm}, dry_run ${dry_run}`);
        const repositories = new Set(scope.repositories ?? []);
        if (scope.repository_patterns?.length) {
          const client = registryClient(settings, registry.url, ctx);
          const catalog = await client.catalog();
          for (const repository of catalog)
            if (scope.repository_patterns.some((p) => doublestarMatch(p, repository))) repositories.add(repository);
        }
        const projectScoped = isProjectScoped(policy);
        const inScope = [...repositories].sort().flatMap((repository) => {
          const rules = policy.rules.filter((rule) => !rule.disabled && ruleAppliesTo(rule, repository, { projectScoped }));
          if (rules.length === 0) ctx.logger.info(`${repository}: no rule applies; skipped`);
          return rules.length === 0 ? [] : [{ repository, rules }];
        });
        const limits = {
          repositories: params.concurrency.repositories ?? settings.defaults.repositories,
          deletes: params.concurrency.deletes ?? settings.defaults.deletes,
          perSecond: params.concurrency.deletes_per_second ?? settings.defaults.deletesPerSecond,
        };
        // Never more repositories at once than deletes allowed in flight, so every share is at least one.
        const poolSize = Math.max(1, Math.min(limits.repositories, limits.deletes, inScope.length));
        const share = Math.floor(limits.deletes / poolSize);
        // Harbor ends such an execution with this message; here it is the job's check-in (no repository job reports one).
        if (inScope.length === 0)
          ctx.checkin(JSON.stringify({ repositories_done: 0, total: 0, dry_run, message: 'no resources for retention' }));
        ctx.logger.info(
          inScope.length === 0
            ? 'no resources for retention'
            : `${inScope.length} repositories, ${poolSize} at a time, ${share} delete(s) in flight each` +
                (limits.perSecond > 0 ? `, ${(limits.perSecond / poolSize).toFixed(2)} deletes/s each` : ''),
        );
        // What every repository job shares is said once, the rules too: the plan is one activity
        // result (2 MB at most), and a policy copied into each of thousands of targets outgrew it.
        // A target carries rules of its own only where fewer of them apply to its repository.
        const enabled = policy.rules.filter((rule) => !rule.disabled);
        const shared: Omit<RetentionRepositoryParams, 'repository'> = {
          registry,
          dry_run,
          max_in_flight: share,
          deletes_per_second: limits.perSecond / poolSize,
          policy: {
            algorithm: 'or',
            rules: enabled,
            ...(policy.scope !== undefined ? { scope: policy.scope } : {}),
            ...(policy.immutable_rules?.length ? { immutable_rules: policy.immutable_rules.filter((rule) => !rule.disabled) } : {}),
          },
        };
        const targets = inScope.map(({ repository, rules }) => ({
          target: repository,
          parameters: rules.length === enabled.length ? { repository } : { repository, policy: { ...shared.policy, rules } },
        }));
        return { poolSize, shared, targets, progress: { done: 'repositories_done', total: 'total', extra: { dry_run } } };
      },
    },
  });
}
