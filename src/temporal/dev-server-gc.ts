/**
 * The embedded server collects garbage only as it nears 2 GiB, not each time its heap doubles.
 * With Go's default it collected every 3–4 s under load, each time with 60–70 ms (up to 180 ms)
 * of concurrent marking on two shared cores: 1.4–2.3% of the time, but a third of the submits
 * slower than 20 ms (their median 18 ms against 8 ms outside). Fewer collections of the same live
 * heap cost less CPU, not more; the price is resident memory, which grows toward the limit.
 */
export const DEV_SERVER_GO_GC = 'off';
export const DEV_SERVER_GO_MEMORY_LIMIT = '2GiB';

/**
 * The server's environment: Go's GC settings from the options, unless the operator set either
 * GOGC or GOMEMLIMIT. The two are one policy: adding our GOGC=off to an operator's
 * GOMEMLIMIT=off would switch collection off altogether.
 */
export function devServerEnv(options: { goGc?: string; goMemoryLimit?: string }, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (env.GOGC || env.GOMEMLIMIT) return { ...env };
  return {
    ...env,
    GOGC: options.goGc ?? DEV_SERVER_GO_GC,
    GOMEMLIMIT: options.goMemoryLimit ?? DEV_SERVER_GO_MEMORY_LIMIT,
  };
}
