// `npm run demo:site`: a third site for the demo, as a process of its own, to
// start and stop while `npm start` runs and watch the centre's fleet page
// react. It runs the vetted site-agent template (flows/site-agent.json,
// unchanged) in a second Node-RED with the variables a site sets
// (docs/onboarding.md): its own mapping spec (flows/demo-site-c.yaml, a
// parcel depot in Lyon), the demo's central bus, the catalog and the policy
// the centre publishes there. It then plays the depot's system: one local
// record a second on the site's local bus, about one in ten refused (an
// unknown status, an implausible weight) so the centre's dead letters show
// reasons.
//
// Ctrl-C stops it cleanly: the site says offline on the bus at once. Killing
// its Node-RED (`kill -9 PID`, the pid it prints) leaves that to the broker,
// which publishes the site's last will.
//
// Environment:
//   TECTONIC_BUS_PORT        the demo's embedded broker (default 1883), as for npm start
//   TECTONIC_SITE_ID         the site id (default site-c)
//   TECTONIC_SITE_UI_PORT    this site's editor (default 1881)
//   TECTONIC_SITE_BUS_PORT   this site's local bus, where its records arrive (default 1884)
//   TECTONIC_SITE_DIR        its Node-RED user folder (default .demo-site/<site id>, git-ignored)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const redJs = join(root, 'node_modules', 'node-red', 'red.js');

const args = process.argv.slice(2).filter((arg) => arg !== '--');
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: npm run demo:site\n  a third demo site (the site-agent template) beside `npm start`; Ctrl-C stops it.\n  TECTONIC_SITE_ID, TECTONIC_SITE_UI_PORT, TECTONIC_SITE_BUS_PORT, TECTONIC_SITE_DIR, TECTONIC_BUS_PORT: see scripts/demo-site.mjs');
  process.exit(0);
}
if (args.length > 0) {
  console.error(`demo-site: unknown option ${args[0]} (it takes none; see --help)`);
  process.exit(2);
}

function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`demo-site: ${name}=${raw} is not a TCP port`);
    process.exit(2);
  }
  return port;
}
const busPort = portFromEnv('TECTONIC_BUS_PORT', 1883);
const uiPort = portFromEnv('TECTONIC_SITE_UI_PORT', 1881);
const localPort = portFromEnv('TECTONIC_SITE_BUS_PORT', 1884);
const site = process.env.TECTONIC_SITE_ID || 'site-c';
// The same rule as a tectonic-bus site id (lib/fleet/health-topics.ts), and a topic level of its own.
if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(site)) {
  console.error(`demo-site: TECTONIC_SITE_ID=${site} is not a site id (letters, digits, ".", "_" or "-", starting with a letter or digit)`);
  process.exit(2);
}
const siteDir = resolve(process.env.TECTONIC_SITE_DIR || join(root, '.demo-site', site));

if (!existsSync(redJs)) {
  console.error('demo-site: node_modules/node-red is missing; run `npm ci` first');
  process.exit(1);
}
for (const entry of Object.values(pkg['node-red'].nodes)) {
  if (!existsSync(join(root, entry))) {
    console.error(`demo-site: ${entry} is missing; run \`npm run build\` (or \`npm start\`) first`);
    process.exit(1);
  }
}

// The user folder: the pack as a module (a symlink to the checkout, as npm start has it).
mkdirSync(join(siteDir, 'node_modules', '@tectonic'), { recursive: true });
writeFileSync(join(siteDir, 'package.json'), `${JSON.stringify({
  name: 'tectonic-demo-site',
  description: 'Node-RED user folder of a demo site (npm run demo:site); generated, git-ignored',
  version: '0.0.0',
  private: true,
  dependencies: { [pkg.name]: `file:${relative(siteDir, root) || '.'}` },
}, null, 2)}\n`);
const link = join(siteDir, 'node_modules', pkg.name);
function linksToCheckout() {
  try {
    return lstatSync(link).isSymbolicLink() && resolve(dirname(link), readlinkSync(link)) === root;
  } catch {
    return false;
  }
}
if (!linksToCheckout()) {
  rmSync(link, { recursive: true, force: true });
  symlinkSync(relative(dirname(link), root), link, 'dir');
}

// The template itself, unchanged, on every start: what is the site's own is in its variables.
copyFileSync(join(root, 'flows', 'site-agent.json'), join(siteDir, 'flows.json'));
// The key the policy's hash masks use at this site: made once, kept with the site.
const hashKeyFile = join(siteDir, 'policy-hash-key');
if (!existsSync(hashKeyFile)) writeFileSync(hashKeyFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
const settingsFile = join(siteDir, 'settings.js');
writeFileSync(settingsFile, `// Generated by scripts/demo-site.mjs on every start; edits here are lost.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.TECTONIC_SITE_UI_PORT || 1881),
  flowFile: 'flows.json',
  flowFilePretty: true,
  // The template's bus has no credentials here (the demo's broker has no users).
  credentialSecret: false,
  logging: { console: { level: 'info', metrics: false, audit: false } },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false },
  editorTheme: { tours: false, projects: { enabled: false } },
};
`);

const localTopic = `site/${site}/records`;
/** One of the depot's records: French field names, Unix seconds, status words, grams. */
function depotRecord(seq) {
  const words = ['CREE', 'EN_ROUTE', 'LIVRE', 'RETOUR'];
  return {
    colis: `LYS-${String(seq).padStart(6, '0')}`,
    horodatage: Math.floor(Date.now() / 1000),
    // One in ten carries a word the mapping does not know; one in seven weighs over a tonne (the policy denies it).
    etat: seq % 10 === 0 ? 'INCONNU' : words[seq % words.length],
    poids_g: seq % 7 === 0 ? 1_250_000 : Math.round(200 + Math.random() * 40_000),
    depot: 'LYS1',
    transporteur: seq % 2 === 0 ? 'Geodis' : 'Colissimo',
  };
}

const env = {
  ...process.env,
  TECTONIC_SITE_UI_PORT: String(uiPort),
  SITE_ID: site,
  TECTONIC_BUS_URL: `mqtt://127.0.0.1:${busPort}`,
  TECTONIC_BUS_USER: '',
  TECTONIC_BUS_PASSWORD: '',
  TECTONIC_LOCAL_BUS_PORT: String(localPort),
  TECTONIC_LOCAL_TOPIC: localTopic,
  TECTONIC_ENTITY: 'shipment',
  TECTONIC_ENTITY_VERSION: '1.1.0',
  TECTONIC_MAPPING_SPEC: join(root, 'flows', 'demo-site-c.yaml'),
  TECTONIC_POLICY_ID: 'central-default',
  // The demo's central policy is signed with the public demo key: a real site trusts only its central team's key.
  TECTONIC_POLICY_PUB: join(root, 'policies', 'demo-policy.pub'),
  TECTONIC_POLICY_HASH_KEY: readFileSync(hashKeyFile, 'utf8').trim(),
  TECTONIC_HEARTBEAT_SECONDS: '5',
  TECTONIC_PROBE_RECORD: JSON.stringify({ ...depotRecord(1), colis: 'LYS-PROBE', etat: 'CREE', poids_g: 1000 }),
  TECTONIC_TEMPLATE_NAME: 'site-agent',
  TECTONIC_TEMPLATE_VERSION: pkg.version,
};
// The site keeps trying to reach the bus; a pilot who started this first should hear why nothing shows yet.
const busUp = await new Promise((resolveProbe) => {
  const socket = connect({ host: '127.0.0.1', port: busPort });
  socket.setTimeout(2000);
  socket.once('connect', () => { socket.destroy(); resolveProbe(true); });
  socket.once('timeout', () => { socket.destroy(); resolveProbe(false); });
  socket.once('error', () => resolveProbe(false));
});
if (!busUp) console.warn(`demo-site: nothing listens on the demo's bus (127.0.0.1:${busPort}) yet: start the demo with \`npm start\` (same TECTONIC_BUS_PORT); ${site} connects once it runs`);

const child = spawn(process.execPath, [redJs, '--userDir', siteDir, '--settings', settingsFile], { cwd: siteDir, env, stdio: 'inherit' });
const editorUrl = `http://127.0.0.1:${uiPort}/`;
console.log(`demo-site: Node-RED ${site} (pid ${child.pid}); editor at ${editorUrl}, local bus at mqtt://127.0.0.1:${localPort}, central bus at mqtt://127.0.0.1:${busPort}`);

let exited = false;
let stopping = false;
let stoppingSince = 0;
let forceTimer;
let feeder;
let feedTimer;

function stopFeeding() {
  if (feedTimer) clearInterval(feedTimer);
  feedTimer = undefined;
  feeder?.end(true);
  feeder = undefined;
}

// As npm start: Ctrl-C stops Node-RED (its flows close and the site says offline);
// a second one a second later or more, or 20 s without an exit, kills it.
function forward(signal) {
  if (exited) return;
  stopFeeding();
  if (stopping) {
    if (Date.now() - stoppingSince < 1000) return;
    console.log('demo-site: stopping Node-RED now (SIGKILL)');
    child.kill('SIGKILL');
    return;
  }
  stopping = true;
  stoppingSince = Date.now();
  console.log(`demo-site: ${signal}: stopping ${site} (pid ${child.pid})…`);
  child.kill(signal);
  forceTimer = setTimeout(() => {
    console.error('demo-site: Node-RED did not stop within 20 s; SIGKILL');
    child.kill('SIGKILL');
  }, 20_000);
}
process.on('SIGINT', () => forward('SIGINT'));
process.on('SIGTERM', () => forward('SIGTERM'));
process.on('SIGHUP', () => forward('SIGTERM'));

child.on('exit', (code, signal) => {
  exited = true;
  stopFeeding();
  if (forceTimer) clearTimeout(forceTimer);
  if (stopping) console.log(`demo-site: ${site} stopped`);
  else console.error(`demo-site: ${site}'s Node-RED exited (${signal ?? `code ${code}`})`);
  process.exit(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
});
child.on('error', (err) => {
  console.error(`demo-site: cannot run Node-RED: ${err.message}`);
  process.exit(1);
});

// Once the editor answers, the site's local bus is up: feed it, once a second.
async function feedWhenReady() {
  const deadline = Date.now() + 60_000;
  while (!exited && !stopping && Date.now() < deadline) {
    try {
      const res = await globalThis.fetch(editorUrl);
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (exited || stopping) return;
  feeder = mqtt.connect(`mqtt://127.0.0.1:${localPort}`, { clientId: `demo-feeder-${site}`, reconnectPeriod: 1000 });
  feeder.on('error', () => undefined);
  let seq = 0;
  feedTimer = setInterval(() => {
    if (feeder?.connected) {
      seq += 1;
      feeder.publish(localTopic, JSON.stringify(depotRecord(seq)), { qos: 1 });
    }
  }, 1000);
  console.log(`\n  Tectonic demo site ${site} running: its records go to the centre's fleet and dead letters (Ctrl-C stops it, kill -9 ${child.pid} kills it)\n`);
}
feedWhenReady().catch((err) => console.error(`demo-site: cannot feed records: ${err.message}`));
