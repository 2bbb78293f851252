/**
 * `npm run dev-registry`: a local OCI registry for trying retention (Debian's docker-registry,
 * deletes enabled) on 127.0.0.1:5000, storage under data/registry, with sample images pushed:
 * proj/app tags a…e (pushed January…May 2026), e-alias on e's digest, and a multi-arch index
 * `multi`. Ctrl-C stops it; the storage stays for `GARBAGE_COLLECTION` to collect.
 */
import { parseArgs } from 'node:util';
import { addTag, listTags, pushImage, pushIndex, startRegistry } from '../src/registry/dev-registry.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5000' }, dir: { type: 'string', default: 'data/registry' } } });
const registry = await startRegistry(Number(values.port), values.dir);
if ((await listTags(registry.url, 'proj/app')).length === 0) {
  const months = ['a', 'b', 'c', 'd', 'e'];
  let e = '';
  for (const [i, tag] of months.entries()) e = await pushImage(registry.url, 'proj/app', tag, `2026-0${i + 1}-01T00:00:00Z`);
  await addTag(registry.url, 'proj/app', e, 'e-alias');
  await pushIndex(registry.url, 'proj/app', 'multi', '2026-03-15T00:00:00Z');
}
console.log(`registry: ${registry.url} (config ${registry.configPath}, storage ${registry.storageDir})`);
console.log(`proj/app tags: ${(await listTags(registry.url, 'proj/app')).join(', ')}`);
const stop = async () => {
  await registry.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
