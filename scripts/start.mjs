// `npm start`: the demo a pilot sees first. Node-RED 4.1 from this checkout's
// node_modules, on 127.0.0.1, with the pack installed into a git-ignored user
// folder (.demo/) as a module (a symlink to the checkout, so a rebuild is all
// it takes to pick up a change, and its examples show under Import > Examples),
// and the demo flow (flows/demo.json: two simulated sites, each with its own
// connection, policy gate, heartbeat and registry entry, and a central hub on
// the embedded bus) deployed on first start. A third site runs as a process
// of its own: `npm run demo:site` (scripts/demo-site.mjs). The user's edits to the flow
// survive restarts; `npm start -- --reset` (or TECTONIC_DEMO_RESET=1) puts the
// demo back.
//
// Environment:
//   TECTONIC_UI_PORT            the editor's port (default 1880)
//   TECTONIC_BUS_PORT           the embedded broker's port (default 1883), read
//                               by the demo flow as ${TECTONIC_BUS_PORT}
//   TECTONIC_CREDENTIAL_SECRET  the key Node-RED encrypts credentials with
//                               (default: one generated once into .demo/)
//   TECTONIC_DEMO_RESET=1       replace .demo/flows.json with the demo flow
//   TECTONIC_DEMO_DIR           another user folder than .demo/ (the tests use
//                               a temporary one)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const demoDir = resolve(process.env.TECTONIC_DEMO_DIR || join(root, '.demo'));
// How the messages name a file in the user folder: relative to the checkout when inside it.
const shown = (file) => (file.startsWith(`${root}/`) ? relative(root, file) : file);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const redJs = join(root, 'node_modules', 'node-red', 'red.js');

// `npm start -- --reset` passes `--reset`; `node scripts/start.mjs -- --reset` passes the `--` too.
const args = process.argv.slice(2).filter((arg) => arg !== '--');
for (const arg of args) {
  if (arg !== '--reset' && arg !== '--help' && arg !== '-h') {
    console.error(`start: unknown option ${arg} (use --reset to put the demo flow back)`);
    process.exit(2);
  }
}
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: npm start [-- --reset]\n  --reset  replace the demo user folder\'s flows with flows/demo.json');
  process.exit(0);
}
const reset = args.includes('--reset') || process.env.TECTONIC_DEMO_RESET === '1';

function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`start: ${name}=${raw} is not a TCP port`);
    process.exit(2);
  }
  return port;
}
const uiPort = portFromEnv('TECTONIC_UI_PORT', 1880);
const busPort = portFromEnv('TECTONIC_BUS_PORT', 1883);

if (!existsSync(redJs)) {
  console.error('start: node_modules/node-red is missing; run `npm ci` first');
  process.exit(1);
}
for (const entry of Object.values(pkg['node-red'].nodes)) {
  if (!existsSync(join(root, entry))) {
    console.error(`start: ${entry} is missing; run \`npm run build\` first`);
    process.exit(1);
  }
}

// The user folder: a package.json that depends on the pack, and the pack
// itself as node_modules/@tectonic/node-red-hybrid -> the checkout.
mkdirSync(join(demoDir, 'node_modules', '@tectonic'), { recursive: true });
writeFileSync(join(demoDir, 'package.json'), `${JSON.stringify({
  name: 'tectonic-demo',
  description: 'Node-RED user folder of the Tectonic demo (npm start); generated, git-ignored',
  version: '0.0.0',
  private: true,
  dependencies: { [pkg.name]: `file:${relative(demoDir, root) || '.'}` },
}, null, 2)}\n`);

const link = join(demoDir, 'node_modules', pkg.name);
const linkTarget = relative(dirname(link), root);
function linksToCheckout() {
  try {
    return lstatSync(link).isSymbolicLink() && resolve(dirname(link), readlinkSync(link)) === root;
  } catch {
    return false;
  }
}
if (!linksToCheckout()) {
  rmSync(link, { recursive: true, force: true });
  symlinkSync(linkTarget, link, 'dir');
}

// The credential secret: from the environment, or generated once and kept
// beside the flows (losing it makes the stored credentials unreadable).
const secretFile = join(demoDir, 'credential-secret');
if (!process.env.TECTONIC_CREDENTIAL_SECRET && !existsSync(secretFile)) {
  writeFileSync(secretFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
}

// Generated on every start so a change here reaches every checkout; what
// varies per site is in the environment, not in this file.
const settingsFile = join(demoDir, 'settings.js');
writeFileSync(settingsFile, `// Generated by scripts/start.mjs on every \`npm start\`; edits here are lost.
// Configure the demo with environment variables instead (see scripts/start.mjs).
const fs = require('node:fs');
const path = require('node:path');

// The demo flow's embedded broker listens on \${TECTONIC_BUS_PORT}.
if (!process.env.TECTONIC_BUS_PORT) process.env.TECTONIC_BUS_PORT = '1883';

module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.TECTONIC_UI_PORT || 1880),
  flowFile: 'flows.json',
  flowFilePretty: true,
  credentialSecret: process.env.TECTONIC_CREDENTIAL_SECRET
    || fs.readFileSync(path.join(__dirname, 'credential-secret'), 'utf8').trim(),
  logging: { console: { level: 'info', metrics: false, audit: false } },
  // Room for a whole reject reason under a debug node (Node-RED cuts at 32 characters by default).
  debugStatusLength: 64,
  // A demo on a laptop: no telemetry, no update checks, no palette installs.
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false },
  // No welcome tour of Node-RED's own new features over the demo.
  editorTheme: { tours: false, projects: { enabled: false }, palette: { categories: ['subflows', 'tectonic', 'common', 'function', 'network', 'sequence', 'parser', 'storage'] } },
  functionExternalModules: false,
};
`);

const flowsFile = join(demoDir, 'flows.json');
if (reset || !existsSync(flowsFile)) {
  if (existsSync(flowsFile)) {
    copyFileSync(flowsFile, join(demoDir, 'flows.before-reset.json'));
    console.log(`start: the previous flows are in ${shown(join(demoDir, 'flows.before-reset.json'))}`);
  }
  copyFileSync(join(root, 'flows', 'demo.json'), flowsFile);
  // Credentials belong to the flows they were saved with.
  rmSync(join(demoDir, 'flows_cred.json'), { force: true });
  console.log(`start: deployed the demo flow (flows/demo.json) into ${shown(flowsFile)}`);
} else {
  console.log(`start: keeping your flows in ${shown(flowsFile)} (npm start -- --reset puts the demo back)`);
}

const env = { ...process.env, TECTONIC_UI_PORT: String(uiPort), TECTONIC_BUS_PORT: String(busPort) };
const child = spawn(process.execPath, [redJs, '--userDir', demoDir, '--settings', settingsFile], { cwd: demoDir, env, stdio: 'inherit' });
const editorUrl = `http://127.0.0.1:${uiPort}/`;
console.log(`start: Node-RED ${pkg.name} demo (pid ${child.pid}); editor at ${editorUrl}, embedded bus at mqtt://127.0.0.1:${busPort}`);

let exited = false;
let stopping = false;
let stoppingSince = 0;
let forceTimer;

// Ctrl-C reaches Node-RED directly as well (same process group); forwarding
// is harmless, Node-RED stops once. A second Ctrl-C (a second later or more:
// some supervisors deliver one signal twice), or a runtime that has not
// stopped within 20 s, ends it with SIGKILL.
function forward(signal) {
  if (exited) return;
  if (stopping) {
    if (Date.now() - stoppingSince < 1000) return;
    console.log('start: stopping Node-RED now (SIGKILL)');
    child.kill('SIGKILL');
    return;
  }
  stopping = true;
  stoppingSince = Date.now();
  console.log(`start: ${signal}: stopping Node-RED (pid ${child.pid})…`);
  child.kill(signal);
  forceTimer = setTimeout(() => {
    console.error('start: Node-RED did not stop within 20 s; SIGKILL');
    child.kill('SIGKILL');
  }, 20_000);
}
process.on('SIGINT', () => forward('SIGINT'));
process.on('SIGTERM', () => forward('SIGTERM'));
process.on('SIGHUP', () => forward('SIGTERM'));

child.on('exit', (code, signal) => {
  exited = true;
  if (forceTimer) clearTimeout(forceTimer);
  if (stopping) console.log('start: Node-RED stopped');
  else console.error(`start: Node-RED exited (${signal ?? `code ${code}`})`);
  process.exit(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
});
child.on('error', (err) => {
  console.error(`start: cannot run Node-RED: ${err.message}`);
  process.exit(1);
});

// Say where the editor is once it answers, after Node-RED's own start-up lines.
async function announceWhenReady() {
  const deadline = Date.now() + 60_000;
  while (!exited && !stopping && Date.now() < deadline) {
    try {
      const res = await globalThis.fetch(editorUrl);
      await res.arrayBuffer();
      if (res.ok) {
        const siteCommand = busPort === 1883 ? 'npm run demo:site' : `TECTONIC_BUS_PORT=${busPort} npm run demo:site`;
        console.log(`\n  Tectonic demo running: open ${editorUrl} (Ctrl-C stops it)\n  The fleet: ${editorUrl}tectonic/fleet; a third site to start and stop: \`${siteCommand}\` in another terminal\n`);
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
announceWhenReady().catch(() => {});
