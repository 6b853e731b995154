import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { hashPassword } from '../broker/password-hash';
import { packRoot } from '../certify/headless-node-red';
import { TectonicError } from '../errors';
import { makeSiteKit } from '../onboarding/site-kit';
import { loadCatalogArgument, parseCommandArgs, readText } from './cli-input';
import { type CliCommand, EXIT } from './cli-types';

const TEMPLATE = { name: 'site-agent', file: 'flows/site-agent.json' };

/**
 * `tectonic site new`: the onboarding kit the central team hands a new site
 * (docs/onboarding.md), offline, in seconds.
 */
export const siteCommand: CliCommand = {
  name: 'site',
  summary: "make a new site's onboarding kit: template flow, variables, bus identity, starter mapping, fixtures, CDM docs",
  usage: `tectonic site new SITE_ID --bus-url URL [--out DIR] [--entity NAME] [--catalog DIR] [--policy-id ID] [--trust-key PUB] [--policy SIGNED] [--heartbeat SECONDS] [--force]
  writes DIR (default ./SITE_ID): flows.json (the site-agent template, unchanged), site.env, identity/ (a generated password and the
  broker's users line with its scrypt hash), mapping.yaml (a starter spec for ENTITY, default shipment), fixtures/, cdm.md, README.md
  --trust-key: the central public key the site trusts for its policy and catalog (copied to keys/central.pub)
  --policy: the signed policy bundle the site certifies against (copied to policy.signed.json; on the bus it comes from the centre)
  exit 0 written, 2 usage or input error (DIR exists and is not empty without --force)`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub !== 'new') throw new TectonicError('USAGE', sub === undefined ? 'missing subcommand: new' : `unknown subcommand "${sub}" (expected: new)`);
    const { values, positionals } = parseCommandArgs(rest, {
      'bus-url': { type: 'string' },
      out: { type: 'string' },
      entity: { type: 'string' },
      catalog: { type: 'string' },
      'policy-id': { type: 'string' },
      'trust-key': { type: 'string' },
      policy: { type: 'string' },
      heartbeat: { type: 'string' },
      force: { type: 'boolean' },
    });
    const [site, ...extra] = positionals;
    if (site === undefined || extra.length > 0) throw new TectonicError('USAGE', 'give exactly one SITE_ID');
    const busUrl = typeof values['bus-url'] === 'string' ? values['bus-url'] : '';
    if (!/^(mqtts?|wss?):\/\/\S+$/.test(busUrl)) throw new TectonicError('USAGE', '--bus-url must be the central bus, e.g. mqtts://bus.example.com:8883');
    const heartbeat = typeof values.heartbeat === 'string' ? Number(values.heartbeat) : 30;
    if (!Number.isInteger(heartbeat) || heartbeat < 1 || heartbeat > 3600) throw new TectonicError('USAGE', '--heartbeat must be whole seconds from 1 to 3600');
    const out = resolve(io.cwd, typeof values.out === 'string' ? values.out : site);
    const existing = await stat(out).catch(() => undefined);
    if (existing !== undefined && values.force !== true) throw new TectonicError('USAGE', `${out} exists already (--force writes into it)`);
    const catalog = await loadCatalogArgument(typeof values.catalog === 'string' ? values.catalog : join(packRoot(), 'cdm'), io);
    if (!catalog.ok) throw new TectonicError('USAGE', `the catalog does not load: ${catalog.reasons.map((r) => r.message).join('; ')}`);
    const manifest = JSON.parse(await readFile(join(packRoot(), 'package.json'), 'utf8')) as { version: string };
    const kit = await makeSiteKit(catalog.catalog, {
      site,
      busUrl,
      policyId: typeof values['policy-id'] === 'string' ? values['policy-id'] : 'central-default',
      trustedKey: typeof values['trust-key'] === 'string' ? await readText(values['trust-key'], io) : undefined,
      entity: typeof values.entity === 'string' ? values.entity : 'shipment',
      template: { name: TEMPLATE.name, version: manifest.version, flows: await readFile(join(packRoot(), TEMPLATE.file), 'utf8') },
      heartbeatSeconds: heartbeat,
      passwordHash: (password) => hashPassword(password),
    });
    if (typeof values.policy === 'string') kit.set('policy.signed.json', await readText(values.policy, io));
    for (const [path, content] of kit) {
      const file = join(out, path);
      await mkdir(dirname(file), { recursive: true });
      // The password and the variables holding it are the site's secret: readable by its owner only.
      await writeFile(file, content, { mode: path === 'site.env' || path.startsWith('identity/') ? 0o600 : 0o644 });
    }
    io.out(`${out}: ${[...kit.keys()].join(', ')}\nnext: read ${join(out, 'README.md')}\n`);
    return EXIT.ok;
  },
};
