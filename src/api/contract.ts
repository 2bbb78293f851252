/**
 * The HTTP contract of `/api/v1`: every request and reply shape, as zod schemas. The route
 * definitions (routes/route-defs.ts) validate with these, types come from `z.infer`, and
 * `/openapi.json` is generated from the routes. The schemas live in contract/, by what they shape.
 */
export * from './contract/job-metadata.js';
export * from './contract/request-bodies.js';
export * from './contract/request-params.js';
export * from './contract/responses.js';
