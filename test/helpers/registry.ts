/** The registry fixtures live in src/registry (the benchmark and the worked example use them too). */
export * from '../../src/registry/dev-registry.js';
export * from '../../src/registry/registry-proxy.js';
export type { DevRegistry as TestRegistry } from '../../src/registry/dev-registry.js';
