// The package as a user gets it: `npm pack` in a copy of the checkout without
// dist/ (as a fresh clone has it: `prepack` must build), then `npm install` of
// the tarball into a fresh Node-RED user folder, then a stock Node-RED (the
// one TECTONIC_NODE_RED_DIR names: CI runs this on Node-RED 4 and 5). Every
// node type package.json declares must register without a load error, the
// editor files must be in the tarball, the examples must show under Import >
// Examples, and the install must be clean: no engine warning from the pack's
// own dependencies (issue 18), each of which must run on every Node.js the
// pack declares.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import semver from 'semver';
import { freePort, nodeRedDir, nodeRedVersion, packageName, repoRoot, startNodeRed, tempDir, waitFor, type FlowNode, type NodeRedProcess } from '../support/node-red-process';

interface PackageJson {
  name: string;
  version: string;
  'node-red': { version: string; nodes: Record<string, string> };
  engines: { node: string };
}

/** One node set as GET /nodes lists it. */
interface NodeSet {
  id: string;
  name: string;
  module: string;
  version?: string;
  types: string[];
  enabled: boolean;
  local?: boolean;
  user?: boolean;
  err?: string;
}

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
const declaredTypes = Object.keys(pkg['node-red'].nodes);
const nodeFileNames = Object.values(pkg['node-red'].nodes).map((entry) => entry.replace(/^.*\//, '').replace(/\.js$/, ''));

function exec(command: string, args: string[], cwd: string, timeoutMs: number): Promise<string> {
  return execBoth(command, args, cwd, timeoutMs).then((out) => out.stdout);
}

function execBoth(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The checkout's files as a fresh clone has them: tracked and new files, nothing git ignores (dist/, node_modules/). */
async function copyAsFreshClone(to: string): Promise<void> {
  const listed = await exec('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], repoRoot, 60_000);
  for (const file of listed.split('\0').filter((name) => name !== '')) {
    const from = join(repoRoot, file);
    // A file deleted but not yet committed is still listed as cached.
    if (!existsSync(from)) continue;
    mkdirSync(dirname(join(to, file)), { recursive: true });
    cpSync(from, join(to, file));
  }
  // The dev dependencies the build needs, as `npm ci` would have put them.
  symlinkSync(join(repoRoot, 'node_modules'), join(to, 'node_modules'), 'dir');
}

/** Every package installed under `dir`/node_modules, nested and scoped ones included. */
function installedPackages(dir: string): Array<{ name: string; version: string; path: string; engines?: { node?: string } }> {
  const found: Array<{ name: string; version: string; path: string; engines?: { node?: string } }> = [];
  const modules = join(dir, 'node_modules');
  if (!existsSync(modules)) return found;
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    const folders = entry.startsWith('@') ? readdirSync(join(modules, entry)).map((name) => join(modules, entry, name)) : [join(modules, entry)];
    for (const folder of folders) {
      const manifest = join(folder, 'package.json');
      if (!existsSync(manifest)) continue;
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; version: string; engines?: { node?: string } };
      found.push({ name: parsed.name, version: parsed.version, path: folder, ...(parsed.engines ? { engines: parsed.engines } : {}) });
      found.push(...installedPackages(folder));
    }
  }
  return found;
}

describe('the packed tarball in a stock Node-RED', function (this: Mocha.Suite) {
  this.timeout(600_000);
  let scratch: Awaited<ReturnType<typeof tempDir>> | undefined;
  let tarball = '';
  let entries: string[] = [];
  let nodeRed: NodeRedProcess | undefined;
  let observer: MqttClient | undefined;
  let busPort = 0;

  let cloneHadDist = true;

  before(async () => {
    scratch = await tempDir('tectonic-pack-');
    const clone = join(scratch.path, 'clone');
    await copyAsFreshClone(clone);
    cloneHadDist = existsSync(join(clone, 'dist'));
    // `prepack` builds dist/ in the copy; the tarball is what `npm publish` would send.
    const out = await exec('npm', ['pack', '--json', '--pack-destination', scratch.path], clone, 300_000);
    // The build's own lines come first on stdout; npm's JSON report is last.
    const report = JSON.parse(out.slice(Math.max(0, out.search(/^\[/m)))) as Array<{ filename: string }>;
    const filename = report[0]?.filename;
    assert.ok(filename, `npm pack reported no tarball: ${out}`);
    // npm names a scoped package's tarball tectonic-node-red-hybrid-0.1.0.tgz.
    tarball = join(scratch.path, filename.replace(/^@/, '').replace('/', '-'));
    // What is really in the tarball, not what npm says it put there.
    entries = (await exec('tar', ['-tzf', tarball], scratch.path, 60_000))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.replace(/^package\//, ''));
  });

  after(async () => {
    await observer?.endAsync(true).catch(() => undefined);
    await nodeRed?.stop();
    await scratch?.remove();
  });

  it('npm pack of a checkout without dist/ builds it first (prepack) and ships it', () => {
    assert.equal(cloneHadDist, false, 'the copy of the checkout already had dist/');
    assert.ok(entries.includes('dist/bin/tectonic.js'), 'dist/bin/tectonic.js is not in the tarball');
    for (const entry of Object.values(pkg['node-red'].nodes)) assert.ok(entries.includes(entry), `${entry} is not in the tarball`);
  });

  it('the package names its repository, bugs and homepage (the Flow Library asks for them)', () => {
    const full = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { repository?: { url?: string }; bugs?: { url?: string }; homepage?: string };
    assert.match(full.repository?.url ?? '', /^git\+https:\/\/.+\.git$/);
    assert.match(full.bugs?.url ?? '', /^https:\/\/.+\/issues$/);
    assert.match(full.homepage ?? '', /^https:\/\//);
  });

  describe('installed with --engine-strict, as a careful site does', () => {
    let installDir = '';
    let output = '';

    before(async () => {
      installDir = join(scratch!.path, 'strict');
      mkdirSync(installDir);
      writeFileSync(join(installDir, 'package.json'), JSON.stringify({ name: 'strict-site', version: '0.0.0', private: true }));
      const out = await execBoth('npm', ['install', '--engine-strict', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn', tarball], installDir, 300_000);
      output = `${out.stdout}\n${out.stderr}`;
    });

    it('installs with no engine warning and no other warning than npm\'s install-script notice', () => {
      assert.doesNotMatch(output, /EBADENGINE|Unsupported engine/i);
      // npm 11 lists the dependencies whose install scripts it skipped
      // (classic-level's node-gyp-build: its prebuilt binaries load without
      // it); that is npm's policy notice, not a problem of the package.
      const warnings = output.split('\n').filter((line) => /^npm warn/i.test(line) && !/^npm warn install-scripts/i.test(line));
      assert.deepEqual(warnings, [], output);
    });

    it(`every installed dependency's engines.node covers the pack's own (${pkg.engines.node})`, () => {
      const installed = installedPackages(installDir).filter((p) => p.name !== packageName);
      assert.ok(installed.length >= 10, `only ${installed.length} packages installed`);
      const narrower = installed
        .filter((p) => p.engines?.node !== undefined && !semver.subset(pkg.engines.node, p.engines.node))
        .map((p) => `${p.name}@${p.version} requires node ${p.engines?.node ?? ''}`);
      assert.deepEqual(narrower, [], 'dependencies that refuse a Node.js the pack declares');
      console.log(`      ${installed.length} installed packages, ${installed.filter((p) => p.engines?.node !== undefined).length} with engines.node, all covering ${pkg.engines.node}`);
    });
  });

  it('the declared Node.js range leaves out every version where require() of an ES module needs a flag', () => {
    // @marcbachmann/cel-js is ESM only and the compiled nodes require() it:
    // unflagged from 20.19 and 22.12 (not 21, not 22.0 to 22.11).
    assert.equal(semver.intersects(pkg.engines.node, '<20.19.0 || >=21.0.0 <22.12.0'), false, `engines.node ${pkg.engines.node}`);
    for (const covered of ['20.19.0', '22.12.0', '24.0.0']) assert.ok(semver.satisfies(covered, pkg.engines.node), `${covered} is left out`);
  });

  it(`the Node-RED under test (${nodeRedVersion} on Node.js ${process.version}) is one the package declares and that runs on this Node.js`, () => {
    assert.ok(semver.satisfies(nodeRedVersion, pkg['node-red'].version), `node-red.version ${pkg['node-red'].version} does not cover ${nodeRedVersion}`);
    assert.ok(semver.satisfies(process.version, pkg.engines.node), `engines.node ${pkg.engines.node} does not cover ${process.version}`);
    const red = JSON.parse(readFileSync(join(nodeRedDir, 'package.json'), 'utf8')) as { engines?: { node?: string } };
    assert.ok(semver.satisfies(process.version, red.engines?.node ?? '*'), `Node-RED ${nodeRedVersion} needs node ${red.engines?.node ?? ''}, this is ${process.version}`);
  });

  it('the tarball carries the compiled nodes with their editor files, locales and icons', () => {
    for (const name of nodeFileNames) {
      for (const file of [`dist/nodes/${name}.js`, `dist/nodes/${name}.html`, `dist/nodes/locales/en-US/${name}.json`, `dist/nodes/locales/en-US/${name}.html`]) {
        assert.ok(entries.includes(file), `${file} is not in the tarball`);
      }
    }
    assert.ok(entries.some((file) => file.startsWith('dist/nodes/icons/')), 'no icon under dist/nodes/icons/ in the tarball');
    assert.ok(entries.some((file) => /^examples\/[^/]+\.json$/.test(file)), 'no example flow under examples/ in the tarball');
    assert.ok(entries.includes('package.json'));
  });

  it('the tarball carries no tests and no TypeScript sources', () => {
    const tests = entries.filter((file) => file.startsWith('test/') || file.includes('/test/'));
    assert.deepEqual(tests, [], 'tests in the tarball');
    const sources = entries.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
    assert.deepEqual(sources, [], 'TypeScript sources in the tarball');
    const stray = entries.filter((file) => /^(nodes|lib|scripts|\.ci|\.demo)\//.test(file));
    assert.deepEqual(stray, [], 'source folders in the tarball');
  });

  describe('installed with npm into a fresh user folder', () => {
    let nodeSets: NodeSet[] = [];

    before(async () => {
      busPort = await freePort();
      // Example 03 reaches its external broker through MQTT_URL: here, the
      // embedded broker of the other examples.
      nodeRed = await startNodeRed({ tarball, readyTimeoutMs: 90_000, env: { MQTT_URL: `mqtt://127.0.0.1:${busPort}` } });
      const res = await nodeRed.api('/nodes', { headers: { accept: 'application/json' } });
      assert.equal(res.status, 200);
      nodeSets = (await res.json()) as NodeSet[];
    });

    it('the runtime is the Node-RED under test', async () => {
      const res = await nodeRed!.api('/settings');
      const settings = (await res.json()) as { version?: string };
      // Node-RED adds "-git" to its version when it finds no packaged marker beside it.
      assert.equal(settings.version?.replace(/-git$/, ''), nodeRedVersion);
    });

    it('the pack is installed from the tarball, not linked to the checkout', () => {
      const moduleDir = join(nodeRed!.userDir, 'node_modules', packageName);
      assert.ok(!lstatSync(moduleDir).isSymbolicLink(), `${moduleDir} is a symlink`);
      const installed = JSON.parse(readFileSync(join(moduleDir, 'package.json'), 'utf8')) as PackageJson;
      assert.equal(installed.version, pkg.version);
      const userManifest = JSON.parse(readFileSync(join(nodeRed!.userDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      assert.ok(userManifest.dependencies?.[packageName]?.endsWith('.tgz'), 'npm did not record the tarball as a dependency of the user folder');
    });

    it('every node type in package.json registers, enabled and without an error', () => {
      const ours = nodeSets.filter((set) => set.module === packageName);
      assert.ok(ours.length > 0, `no node set of ${packageName} in GET /nodes; log:\n${nodeRed!.logs()}`);
      for (const set of ours) {
        assert.equal(set.err, undefined, `node set ${set.id} failed to load: ${set.err ?? ''}`);
        assert.equal(set.enabled, true, `node set ${set.id} is disabled`);
        assert.equal(set.version, pkg.version);
      }
      const registered = new Set(ours.flatMap((set) => set.types));
      for (const type of declaredTypes) assert.ok(registered.has(type), `node type ${type} is not registered`);
    });

    it('the log shows no load error', () => {
      const log = nodeRed!.logs();
      for (const marker of ['[error]', 'Failed to register', 'Waiting for missing types', 'Error:']) {
        assert.ok(!log.includes(marker), `the log contains "${marker}":\n${log}`);
      }
      const warnings = log.split('\n').filter((line) => line.includes('[warn]') && line.includes(packageName));
      assert.deepEqual(warnings, [], 'warnings about the pack');
    });

    it('the editor is served each node\'s form and help', async () => {
      const res = await nodeRed!.api('/nodes', { headers: { accept: 'text/html' } });
      assert.equal(res.status, 200);
      const html = await res.text();
      for (const type of declaredTypes) {
        assert.ok(html.includes(`registerType('${type}'`) || html.includes(`registerType("${type}"`), `the editor gets no registerType for ${type}`);
        assert.ok(html.includes(`data-help-name="${type}"`), `the editor gets no help for ${type}`);
      }
    });

    it('the examples are listed under Import > Examples and are flows of registered types', async () => {
      const modules = (await (await nodeRed!.api('/library/examples/flows/')).json()) as string[];
      assert.ok(modules.includes(packageName), `examples of ${packageName} are not listed: ${JSON.stringify(modules)}`);
      const listing = (await (await nodeRed!.api(`/library/examples/flows/${packageName}`)).json()) as Array<string | { fn?: string }>;
      const names = listing.map((entry) => (typeof entry === 'string' ? entry : entry.fn ?? '')).filter((name) => name !== '');
      assert.ok(names.length >= 3, `expected at least 3 examples, got ${JSON.stringify(listing)}`);

      const known = new Set(['tab', 'subflow', 'group', 'junction', ...nodeSets.flatMap((set) => set.types)]);
      const usedTypes = new Set<string>();
      for (const name of names) {
        const res = await nodeRed!.api(`/library/examples/flows/${packageName}/${encodeURIComponent(name)}`);
        assert.equal(res.status, 200, `example ${name} cannot be fetched`);
        const flow = JSON.parse(await res.text()) as unknown;
        assert.ok(Array.isArray(flow), `example ${name} is not a flow (a JSON array)`);
        for (const node of flow as FlowNode[]) {
          assert.ok(known.has(node.type), `example ${name}: node ${node.id} has unregistered type ${node.type}`);
          usedTypes.add(node.type);
        }
      }
      for (const type of declaredTypes) assert.ok(usedTypes.has(type), `no example uses ${type}`);
    });

    it('the examples, deployed together, publish canonical messages on the bus', async () => {
      const nr = nodeRed!;
      const names = ['01 Site to centre', '02 Publish and subscribe', '03 External broker'];
      const deployed = new Map<string, FlowNode>();
      for (const name of names) {
        const res = await nr.api(`/library/examples/flows/${packageName}/${encodeURIComponent(name)}`);
        assert.equal(res.status, 200, `example ${name} cannot be fetched`);
        const flow = JSON.parse(await res.text()) as FlowNode[];
        // The editor imports an example into a tab; the API needs that tab.
        const z = flow.find((node) => typeof node.z === 'string')?.z as string;
        deployed.set(z, { id: z, type: 'tab', label: name, disabled: false, info: '' });
        // Examples share one embedded bus (same id), as importing them does.
        for (const node of flow) if (!deployed.has(node.id)) deployed.set(node.id, node);
      }
      const bus = deployed.get('tectonic-embedded-bus');
      assert.ok(bus, 'the examples have no shared embedded bus');
      bus.port = String(busPort);
      // The catch node handles 02's "no envelope" error, so Node-RED does not log it;
      // its debug node writes to the log instead, where the test can read it.
      const errorsDebug = deployed.get('ex02-errors');
      assert.ok(errorsDebug, 'example 02 has no debug node for caught errors');
      errorsDebug.console = true;

      const client = connect(`mqtt://127.0.0.1:${busPort}`, { clientId: 'pack-e2e-observer', reconnectPeriod: 200, connectTimeout: 5_000 });
      observer = client;
      const seen: Array<{ topic: string; event: { id?: string; source?: string; data?: { shipmentId?: string } } }> = [];
      client.on('message', (topic, body) => {
        try {
          seen.push({ topic, event: JSON.parse(body.toString('utf8')) as (typeof seen)[number]['event'] });
        } catch {
          seen.push({ topic, event: {} });
        }
      });
      client.on('connect', () => { void client.subscribeAsync('cdm/#', { qos: 1 }).catch(() => undefined); });

      const from = nr.logs().length;
      await nr.deploy([...deployed.values()]);
      await waitFor(() => client.connected, { timeoutMs: 15_000, message: 'a client to connect to the examples\' embedded broker' });

      // 01: the simulated site publishes every second on its own.
      await waitFor(() => seen.some((m) => m.topic === 'cdm/shipment/v1/site-a' && m.event.source === 'urn:tectonic:site-a:demo'), { timeoutMs: 15_000, message: 'example 01 publishing' });
      // 02 and 03: their inject buttons.
      for (const [inject, topic, source] of [['ex02-shipment', 'cdm/shipment/v1/site-a', 'urn:tectonic:site-a:example'], ['ex03-shipment', 'cdm/shipment/v1/site-b', 'urn:tectonic:site-b:example']] as const) {
        const res = await nr.api(`/inject/${inject}`, { method: 'POST' });
        assert.equal(res.status, 200, `POST /inject/${inject}`);
        await waitFor(() => seen.some((m) => m.topic === topic && m.event.source === source && m.event.data?.shipmentId?.startsWith('SHP-EXAMPLE-')), { timeoutMs: 10_000, message: `${inject} publishing` });
      }
      const log = nr.logs().slice(from);
      assert.ok(!log.includes('[error]'), `errors after deploying the examples:\n${log}`);

      // 02's "no envelope": a clear error, which the example's catch node takes.
      const res = await nr.api('/inject/ex02-no-envelope', { method: 'POST' });
      assert.equal(res.status, 200);
      await nr.waitForLog(/msg\.cdm is not a usable envelope/, 10_000, from);
    });
  });
});
