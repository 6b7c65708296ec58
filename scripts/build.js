// `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json) and copies beside the
// compiled code the other files src/ holds (the demo content's JSON, read at run time through
// `new URL(…, import.meta.url)`), so `node dist/server.js` runs with no TypeScript loader.
// dist/ is emptied first: nothing of a deleted or renamed module stays behind.
// `node scripts/build.js .build-<name>` builds into that folder of the repository's root instead
// (tests that run the compiled server, each in its own, so that they never race on dist/). It
// sits directly in the root, as the compiled code finds the migrations at <folder>/db/../../migrations;
// only dist and .build-* (both ignored by git and eslint) are accepted, since the folder is emptied.
// Plain JavaScript on purpose: it runs before anything is compiled, with no loader.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const outName = process.argv[2] ?? 'dist';
if (outName !== 'dist' && !/^\.build-[\w-]+$/.test(outName)) {
  process.stderr.write(`build: the output folder must be dist or .build-<name>, not ${JSON.stringify(outName)}\n`);
  process.exit(2);
}
const dist = join(root, outName);
/** Source and notes for readers, not read at run time. */
const NOT_COPIED = new Set(['.ts', '.md']);

rmSync(dist, { recursive: true, force: true });

const tsc = fileURLToPath(import.meta.resolve('typescript/bin/tsc'));
const compiled = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

let copied = 0;
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || NOT_COPIED.has(extname(entry.name))) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join(dist, relative(src, from)));
  copied += 1;
}
process.stdout.write(`built ${relative(root, dist)}/ (${copied} asset${copied === 1 ? '' : 's'} copied from ${relative(root, src)}/)\n`);
