import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { hashPassword } from '../broker/password-hash';
import { packRoot } from '../certify/headless-node-red';
import { TectonicError } from '../errors';
import { type HubKind, isTcpPort, makeHubKit } from '../onboarding/hub-kit';
import { parseCommandArgs, readText } from './cli-input';
import { type CliCommand, EXIT } from './cli-types';

const TEMPLATES: Record<HubKind, { name: string; file: string }> = {
  central: { name: 'central-hub', file: 'flows/central-hub.json' },
  regional: { name: 'regional-hub', file: 'flows/regional-hub.json' },
};

const list = (raw: unknown): string[] => (typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : []);

/**
 * `tectonic hub new central|regional`: the kit for the centre's Node-RED or a
 * regional hub, the counterpart of `tectonic site new` (docs/onboarding.md).
 */
export const hubCommand: CliCommand = {
  name: 'hub',
  summary: "make a central or regional hub's kit: template flow, variables, bus identity",
  usage: `tectonic hub new central [ID] --bus-url URL [--out DIR] [--sites a,b] [--catalog DIR] [--policy SIGNED] [--trust-key PUB] [--force]
tectonic hub new regional ID --bus-url URL --sites a,b [--out DIR] [--regional-port PORT] [--force]
  writes DIR (default ./ID; the central hub's ID defaults to "central"): flows.json (the central-hub or regional-hub template,
  unchanged), hub.env, flows_cred.json and settings.js, identity/ (a generated password and the broker's users line), README.md
  central: --catalog, --policy and --trust-key are copied into the kit (cdm/, policy.signed.json, keys/central.pub);
           --sites are the sites the monitor expects
  regional: --sites are the sites the hub bridges; its broker user gets their rights together
  exit 0 written, 2 usage or input error (DIR exists without --force)`,
  async run(args, io) {
    const [sub, kindArg, ...rest] = args;
    if (sub !== 'new') throw new TectonicError('USAGE', sub === undefined ? 'missing subcommand: new' : `unknown subcommand "${sub}" (expected: new)`);
    if (kindArg !== 'central' && kindArg !== 'regional') throw new TectonicError('USAGE', `say which hub: central or regional${kindArg === undefined ? '' : ` (got "${kindArg}")`}`);
    const kind: HubKind = kindArg;
    const { values, positionals } = parseCommandArgs(rest, {
      'bus-url': { type: 'string' },
      out: { type: 'string' },
      sites: { type: 'string' },
      catalog: { type: 'string' },
      policy: { type: 'string' },
      'trust-key': { type: 'string' },
      'regional-port': { type: 'string' },
      force: { type: 'boolean' },
    });
    if (positionals.length > 1) throw new TectonicError('USAGE', 'give at most one hub ID');
    const id = positionals[0] ?? (kind === 'central' ? 'central' : undefined);
    if (id === undefined) throw new TectonicError('USAGE', 'a regional hub needs its ID');
    const busUrl = typeof values['bus-url'] === 'string' ? values['bus-url'] : '';
    if (!/^(mqtts?|wss?):\/\/\S+$/.test(busUrl)) throw new TectonicError('USAGE', '--bus-url must be the central bus, e.g. mqtts://bus.example.com:8883');
    if (kind === 'regional' && (values.catalog !== undefined || values.policy !== undefined || values['trust-key'] !== undefined)) {
      throw new TectonicError('USAGE', 'a regional hub takes the catalog and the policy from the global bus: --catalog, --policy and --trust-key are for the central hub');
    }
    const out = resolve(io.cwd, typeof values.out === 'string' ? values.out : id);
    if ((await stat(out).catch(() => undefined)) !== undefined && values.force !== true) throw new TectonicError('USAGE', `${out} exists already (--force writes into it)`);

    // What the central hub is given is copied into the kit, so the kit is whole on the hub's machine.
    const copies: Array<[string, string]> = [];
    const catalog = typeof values.catalog === 'string' ? resolve(io.cwd, values.catalog) : kind === 'central' ? join(packRoot(), 'cdm') : undefined;
    if (catalog !== undefined) {
      if (!(await stat(catalog).catch(() => undefined))?.isDirectory()) throw new TectonicError('USAGE', `--catalog ${values.catalog}: no such folder`);
      copies.push([catalog, 'cdm']);
    }
    const files = new Map<string, string>();
    if (typeof values.policy === 'string') files.set('policy.signed.json', await readText(values.policy, io));
    if (typeof values['trust-key'] === 'string') files.set('keys/central.pub', await readText(values['trust-key'], io));

    const manifest = JSON.parse(await readFile(join(packRoot(), 'package.json'), 'utf8')) as { version: string };
    const template = TEMPLATES[kind];
    const port = typeof values['regional-port'] === 'string' ? portNumber(values['regional-port']) : undefined;
    const kit = await makeHubKit({
      kind,
      id,
      busUrl,
      sites: list(values.sites),
      template: { name: template.name, version: manifest.version, flows: await readFile(join(packRoot(), template.file), 'utf8') },
      regionalPort: port,
      passwordHash: (password) => hashPassword(password),
    });
    for (const [path, content] of [...kit, ...files]) {
      const file = join(out, path);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content, { mode: path === 'hub.env' || path.startsWith('identity/') ? 0o600 : 0o644 });
    }
    for (const [from, to] of copies) await cp(from, join(out, to), { recursive: true });
    const missing = kind === 'central' ? ['policy.signed.json', 'keys/central.pub'].filter((f) => !files.has(f)) : [];
    io.out(`${out}: ${[...kit.keys(), ...files.keys(), ...copies.map(([, to]) => `${to}/`)].join(', ')}\n${missing.length > 0 ? `still to add before the hub starts: ${missing.join(', ')} (--policy, --trust-key)\n` : ''}next: read ${join(out, 'README.md')}\n`);
    return EXIT.ok;
  },
};

/** A TCP port given on the command line: a whole number from 1 to 65535, or a usage error naming it (not NaN in the kit). */
function portNumber(text: string): number {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!isTcpPort(port)) throw new TectonicError('USAGE', `--regional-port ${text}: not a port (a whole number from 1 to 65535)`);
  return port;
}
