import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { catalogDocs, exampleRecord } from '../catalog/catalog-docs';
import { type Catalog, deprecationStatus } from '../catalog/catalog-model';
import { TectonicError } from '../errors';
import { SITE_ID } from '../fleet/health-topics';
import { KIT_SETTINGS_JS } from './hub-kit';

/** The centre's settings a kit is made with (`tectonic site new` options). */
export interface KitOptions {
  site: string;
  /** The central bus the site publishes on, e.g. mqtts://bus.example.com:8883. */
  busUrl: string;
  /** The signed policy's id on the bus (`tectonic/policy/{id}`). */
  policyId: string;
  /** The public key (PEM) the site trusts for policy and catalog. */
  trustedKey?: string;
  /** The entity the site will publish first. */
  entity: string;
  template: { name: string; version: string; flows: string };
  heartbeatSeconds: number;
  /** The broker user's password hash (lib/broker/password-hash.ts), made by the caller. */
  passwordHash: (password: string) => Promise<string>;
}

/** The files of a kit, by path inside the kit folder. */
export type Kit = Map<string, string>;

function latestCurrent(catalog: Catalog, entity: string, now: Date): string {
  const found = catalog.entities.get(entity);
  if (found === undefined) throw new TectonicError('USAGE', `no entity ${entity} in the catalog (it has ${[...catalog.entities.keys()].join(', ')})`);
  const usable = [...found.versions].reverse().find((v) => !deprecationStatus(v, now).deprecated) ?? found.versions[found.versions.length - 1];
  if (usable === undefined) throw new TectonicError('USAGE', `entity ${entity} has no version`);
  return usable.version;
}

/**
 * An onboarding kit for one site: the vetted site-agent template unchanged,
 * the site's variables, its bus identity, a starter mapping spec and fixture
 * records for the entity it publishes first, the CDM documentation of that
 * entity, and a short guide. Offline; the password is generated here and
 * never leaves the kit but as its hash in the broker's users line.
 */
export async function makeSiteKit(catalog: Catalog, options: KitOptions, now = new Date()): Promise<Kit> {
  if (!SITE_ID.test(options.site)) throw new TectonicError('USAGE', `"${options.site}" is not a site id: letters, digits, ".", "_" or "-", starting with a letter or digit`);
  const version = latestCurrent(catalog, options.entity, now);
  const entityVersion = catalog.entities.get(options.entity)?.versions.find((v) => v.version === version);
  if (entityVersion === undefined) throw new TectonicError('USAGE', `no ${options.entity}@${version}`);
  const user = `site-${options.site}`;
  const password = randomBytes(24).toString('base64url');
  const hashKey = randomBytes(32).toString('base64url');
  const sample = exampleRecord(catalog, entityVersion) as Record<string, unknown>;
  const fields = Object.keys(sample);

  const kit: Kit = new Map();
  kit.set('flows.json', options.template.flows);
  kit.set(
    'site.env',
    [
      `# ${options.site}: the variables of the ${options.template.name} template ${options.template.version} (README.md, "Templates")`,
      `SITE_ID=${options.site}`,
      `TECTONIC_BUS_URL=${options.busUrl}`,
      `TECTONIC_BUS_USER=${user}`,
      `TECTONIC_BUS_PASSWORD=${password}`,
      'TECTONIC_LOCAL_BUS_PORT=1884',
      `TECTONIC_LOCAL_TOPIC=site/${options.site}/records`,
      `TECTONIC_ENTITY=${options.entity}`,
      `TECTONIC_ENTITY_VERSION=${version}`,
      'TECTONIC_MAPPING_SPEC=mapping.yaml',
      `TECTONIC_POLICY_ID=${options.policyId}`,
      `TECTONIC_POLICY_PUB=${options.trustedKey === undefined ? '' : 'keys/central.pub'}`,
      `TECTONIC_POLICY_HASH_KEY=${hashKey}`,
      `TECTONIC_HEARTBEAT_SECONDS=${options.heartbeatSeconds}`,
      `TECTONIC_PROBE_RECORD=${JSON.stringify(sample)}`,
      `TECTONIC_TEMPLATE_NAME=${options.template.name}`,
      `TECTONIC_TEMPLATE_VERSION=${options.template.version}`,
      '',
    ].join('\n'),
  );
  if (options.trustedKey !== undefined) kit.set('keys/central.pub', options.trustedKey);
  // The bus credentials as references to site.env: Node-RED reads \${VAR} in credentials, so this file holds no secret.
  kit.set('flows_cred.json', `${JSON.stringify({ 'agent-bus': { user: '${TECTONIC_BUS_USER}', password: '${TECTONIC_BUS_PASSWORD}' } }, null, 2)}\n`);
  kit.set('settings.js', KIT_SETTINGS_JS);
  kit.set('identity/password', `${password}\n`);
  kit.set('identity/broker-user.yaml', `# Add to the central broker's users list (tectonic broker --config); the password itself stays with the site.\n- { name: ${user}, role: site, site: ${options.site}, passwordHash: "${await options.passwordHash(password)}" }\n`);
  const spec = {
    entity: options.entity,
    version,
    rules: fields.map((field) => ({ to: field, from: field })),
  };
  kit.set(
    'mapping.yaml',
    `# The site's own mapping: local record -> ${options.entity} ${version} (docs/mapping-spec.md).\n# Change "from" to your system's field names and add transforms; try it with\n#   npx tectonic map --spec mapping.yaml fixtures/records.jsonl\n${stringify(spec)}`,
  );
  kit.set('fixtures/records.jsonl', `${JSON.stringify(sample)}\n`);
  kit.set('cdm.md', catalogDocs(catalog, { entities: [options.entity], now }));
  kit.set('README.md', guide(options, user, version));
  return kit;
}

function guide(options: KitOptions, user: string, version: string): string {
  return `# Onboarding kit: site ${options.site}

Made by \`tectonic site new\` for the ${options.template.name} template ${options.template.version}.

| file | what it is |
|---|---|
| \`flows.json\` | the vetted site agent; do not edit it: what is yours is in the files below |
| \`site.env\` | the site's variables (bus, credentials, policy, heartbeat); keep it secret |
| \`mapping.yaml\` | your mapping from your local records to ${options.entity} ${version} |
| \`fixtures/records.jsonl\` | sample local records; put real ones (and one that must be refused) here |
| \`cdm.md\` | what ${options.entity} means, field by field |
| \`identity/\` | the bus password (yours) and the line the central team adds to the broker |

1. Edit \`mapping.yaml\` until \`npx tectonic map --spec mapping.yaml fixtures/records.jsonl\` prints canonical records.
2. Certify: \`npx tectonic certify flows.json --fixtures fixtures --env site.env --policy policy.signed.json --pub keys/central.pub\` (the central team puts the signed policy in the kit, or sends it).
3. Send \`identity/broker-user.yaml\` to the central team; they add it to the broker's users.
4. Start Node-RED with the kit: \`node --env-file=site.env node_modules/node-red/red.js --userDir . --settings settings.js\` (with the pack installed in this folder: \`npm install node-red @tectonic/node-red-hybrid\`).
5. Point your local system at the local bus (\`TECTONIC_LOCAL_TOPIC\` on port \`TECTONIC_LOCAL_BUS_PORT\`).

The broker user is \`${user}\`: it may publish only this site's records, health and dead letters.
`;
}
