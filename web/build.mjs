// Builds the web UI into one directory the host serves: the pages from
// src/ as they are (plain ES modules, no bundling), and the few third-party
// files named under "greenroom.vendor" in package.json, copied from
// node_modules into vendor/.  Nothing third-party lives in the repository.
//
//   node build.mjs --out <dir>      (CMake runs it after `npm ci`)
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outIndex = process.argv.indexOf('--out');
if (outIndex < 0 || !process.argv[outIndex + 1]) {
  console.error('usage: node build.mjs --out <dir>');
  process.exit(2);
}
const out = resolve(process.argv[outIndex + 1]);
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));

// Start from an empty directory, so a file removed from src/ is not served.
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(here, 'src'), out, { recursive: true });

for (const [dest, from] of Object.entries(pkg.greenroom?.vendor ?? {})) {
  const source = join(here, 'node_modules', from);
  if (!existsSync(source)) {
    console.error(`web build: ${source} is missing: run \`npm ci\` in ${here} (the npm registry must be reachable once)`);
    process.exit(1);
  }
  const target = join(out, 'vendor', dest);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(source, target);
}
console.log(`web build: ${out}`);
