/**
 * The embedded server collects garbage only as it nears 2 GiB, not each time its heap doubles.
 * With Go's default it ran a collection every 3–4 s under load; each one's ~150 ms of concurrent
 * marking on two shared cores covered 2% of the time and a third of the submits slower than 20 ms
 * (their median 18 ms against 8 ms outside). Fewer collections of the same live heap cost less CPU,
 * not more; the price is resident memory, up to the limit. An operator's GOGC or GOMEMLIMIT wins.
 */
export const DEV_SERVER_GO_GC = 'off';
export const DEV_SERVER_GO_MEMORY_LIMIT = '2GiB';

/** The server's environment: Go's GC settings from the options unless the operator set them. */
export function devServerEnv(options: { goGc?: string; goMemoryLimit?: string }, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...env,
    GOGC: env.GOGC || (options.goGc ?? DEV_SERVER_GO_GC),
    GOMEMLIMIT: env.GOMEMLIMIT || (options.goMemoryLimit ?? DEV_SERVER_GO_MEMORY_LIMIT),
  };
}
