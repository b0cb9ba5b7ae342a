/**
 * The browser bundle of the session + group path (what a chat client imports: sessions from
 * prekey bundles, Sender Keys groups, identity keys, in-memory stores), minified by esbuild, and
 * how much of it each noble library takes (from the metafile). Recorded in docs/benchmarks.md.
 *
 *   pnpm --filter @parley/crypto size
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const entry = `
export { SessionCipher } from './src/session.ts';
export { GroupCipher } from './src/group.ts';
export { IdentityKeyPair } from './src/curve.ts';
export { ProtocolAddress } from './src/address.ts';
export { PreKeyBundle, generatePreKeys, generateSignedPreKey, generateKyberPreKey } from './src/prekeys.ts';
export { InMemoryProtocolStore } from './src/inmem-stores.ts';
export { InMemorySenderKeyStore } from './src/group.ts';
`;

const result = await build({
  stdin: {
    contents: entry,
    resolveDir: fileURLToPath(new URL('..', import.meta.url)),
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  metafile: true,
  write: false,
});
const js = result.outputFiles[0]!.contents;
const [output] = Object.values(result.metafile.outputs);

/** Minified bytes per source group: each noble package, and @parley/crypto itself. */
const groups = new Map<string, number>();
for (const [path, { bytesInOutput }] of Object.entries(output!.inputs)) {
  const noble = /@noble\/([a-z-]+)/.exec(path);
  const group = noble ? `@noble/${noble[1]}` : '@parley/crypto';
  groups.set(group, (groups.get(group) ?? 0) + bytesInOutput);
}
const total = js.length;
const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const gzip = gzipSync(js, { level: 9 }).length;
console.log(`session + group path: ${kib(total)} minified, ${kib(gzip)} min+gzip`);
console.log('| source | minified | share |');
console.log('| --- | --- | --- |');
for (const [group, bytes] of [...groups].sort((a, b) => b[1] - a[1])) {
  console.log(`| ${group} | ${kib(bytes)} | ${((100 * bytes) / total).toFixed(0)} % |`);
}
const nobleBytes = [...groups]
  .filter(([g]) => g.startsWith('@noble/'))
  .reduce((s, [, b]) => s + b, 0);
console.log(`noble altogether: ${kib(nobleBytes)} (${((100 * nobleBytes) / total).toFixed(0)} %)`);
