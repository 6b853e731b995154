// What `npm start` and `npm run demo:site` both need before Node-RED starts:
// this checkout installed and built, and a Node-RED user folder with the pack
// as a module (a symlink to the checkout, so a rebuild is all it takes to
// pick up a change, and its examples show under Import > Examples).
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
export const redJs = join(root, 'node_modules', 'node-red', 'red.js');

/** Exits with the command to run when Node-RED or the built nodes are missing; `who` names the script in the message. */
export function requireBuiltCheckout(who) {
  if (!existsSync(redJs)) {
    console.error(`${who}: node_modules/node-red is missing; run \`npm ci\` first`);
    process.exit(1);
  }
  for (const entry of Object.values(pkg['node-red'].nodes)) {
    if (!existsSync(join(root, entry))) {
      console.error(`${who}: ${entry} is missing; run \`npm run build\` first`);
      process.exit(1);
    }
  }
}

/** Writes the user folder's package.json (depending on the pack) and links node_modules/@tectonic/node-red-hybrid to the checkout. */
export function linkPackInto(userDir, manifest) {
  mkdirSync(join(userDir, 'node_modules', '@tectonic'), { recursive: true });
  writeFileSync(join(userDir, 'package.json'), `${JSON.stringify({
    ...manifest,
    version: '0.0.0',
    private: true,
    dependencies: { [pkg.name]: `file:${relative(userDir, root) || '.'}` },
  }, null, 2)}\n`);
  const link = join(userDir, 'node_modules', pkg.name);
  if (!linksTo(link, root)) {
    rmSync(link, { recursive: true, force: true });
    symlinkSync(relative(dirname(link), root), link, 'dir');
  }
}

function linksTo(link, target) {
  try {
    return lstatSync(link).isSymbolicLink() && resolve(dirname(link), readlinkSync(link)) === target;
  } catch {
    return false;
  }
}
