// Compiles the TypeScript and puts every editor asset where Node-RED looks for
// it: beside the compiled node (.html, locales/, icons/). A node whose .html or
// help is missing vanishes from the palette without a word, so the build checks
// each one listed in package.json and fails instead.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalogKeyProblems } from './catalog-keys.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const problems = [];

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('build: the TypeScript compiler reported errors; nothing is published');
  process.exit(1);
}

cpSync(join(root, 'nodes/locales'), join(dist, 'nodes/locales'), { recursive: true });
cpSync(join(root, 'icons'), join(dist, 'nodes/icons'), { recursive: true });
for (const file of readdirSync(join(root, 'nodes'))) {
  if (file.endsWith('.html')) cpSync(join(root, 'nodes', file), join(dist, 'nodes', file));
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const icons = new Set(readdirSync(join(root, 'icons')));
for (const [type, entry] of Object.entries(pkg['node-red'].nodes)) {
  const base = join(root, entry.replace(/\.js$/, ''));
  const name = base.split('/').pop();
  const required = [`${base}.js`, `${base}.html`, join(dist, 'nodes/locales/en-US', `${name}.json`), join(dist, 'nodes/locales/en-US', `${name}.html`)];
  for (const file of required) if (!existsSync(file)) problems.push(`${type}: missing ${file.slice(root.length + 1)}`);
  if (existsSync(`${base}.html`)) {
    const html = readFileSync(`${base}.html`, 'utf8');
    if (!html.includes(`registerType('${type}'`) && !html.includes(`registerType("${type}"`)) problems.push(`${type}: ${name}.html does not register the type`);
    // Node-RED serves the package's resources/ folder at resources/<package name>/ and loads these before the node's own script.
    for (const match of html.matchAll(/<script src="resources\/([^"]+)"/g)) {
      const prefix = `${pkg.name}/`;
      const file = match[1].startsWith(prefix) ? join(root, 'resources', match[1].slice(prefix.length)) : undefined;
      if (file === undefined) problems.push(`${type}: ${name}.html loads ${match[1]}, which is not under resources/${prefix}`);
      else if (!existsSync(file)) problems.push(`${type}: ${name}.html loads ${match[1]}, but ${file.slice(root.length + 1)} is missing`);
      else if (!pkg.files.includes('resources/')) problems.push(`${type}: ${name}.html loads ${match[1]}, but package.json "files" does not ship resources/`);
    }
    for (const match of html.matchAll(/icon:\s*["']([^"']+)["']/g)) {
      const icon = match[1];
      // Font Awesome names ("fa fa-sign-in") and paths to core icons are not ours to ship.
      if (!icon.includes('/') && !icon.includes(' ') && !icons.has(icon)) problems.push(`${type}: icon ${icon} is not in icons/`);
    }
  }
}

problems.push(...catalogKeyProblems(root));

if (problems.length > 0) {
  console.error(`build: ${problems.length} missing asset(s) or catalog key(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`build: ${Object.keys(pkg['node-red'].nodes).length} nodes with their editor files, locales and icons in dist/; every runtime text key is in its en-US catalog`);
