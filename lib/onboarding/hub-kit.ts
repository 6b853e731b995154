import { randomBytes } from 'node:crypto';
import { TectonicError } from '../errors';
import { SITE_ID } from '../fleet/health-topics';
import type { Kit } from './site-kit';

/** The two hub templates `tectonic hub new` makes a kit of. */
export type HubKind = 'central' | 'regional';

/** The centre's settings a hub kit is made with (`tectonic hub new` options). */
export interface HubKitOptions {
  kind: HubKind;
  /** The hub's id: its bus user's name and, for a regional hub, its site id on the global bus. */
  id: string;
  /** The global (central) bus, e.g. mqtts://bus.example.com:8883. */
  busUrl: string;
  /** The sites the hub answers for: a regional hub's sites, the centre's expected sites. */
  sites: string[];
  template: { name: string; version: string; flows: string };
  /** Regional hub: the regional bus's port (default 1884). */
  regionalPort?: number;
  /** The broker user's password hash (lib/broker/password-hash.ts), made by the caller. */
  passwordHash: (password: string) => Promise<string>;
}

/** The tectonic-bus node in each template that holds the hub's identity on the global bus. */
const GLOBAL_BUS_NODE: Record<HubKind, string> = { central: 'central-bus', regional: 'regional-global-bus' };

/** Node-RED's settings for a kit: loopback editor, a plain credentials file holding only ${VAR} references. */
export const KIT_SETTINGS_JS =
  "// Node-RED settings for the kit: loopback editor, plain credentials file (it holds only ${VAR} references to the .env file).\nmodule.exports = { flowFile: 'flows.json', credentialSecret: false, uiHost: process.env.TECTONIC_UI_HOST || '127.0.0.1', uiPort: Number(process.env.TECTONIC_UI_PORT || 1880) };\n";

/**
 * An onboarding kit for a central or a regional hub: the vetted template
 * unchanged, its variables (hub.env), its bus identity and the broker's users
 * line, and a short guide. Offline; the password never leaves the kit but as
 * its hash.
 */
/** A port a hub's regional bus can listen on. */
export function isTcpPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

export async function makeHubKit(options: HubKitOptions): Promise<Kit> {
  if (!SITE_ID.test(options.id)) throw new TectonicError('USAGE', `"${options.id}" is not a hub id: letters, digits, ".", "_" or "-", starting with a letter or digit`);
  const badSite = options.sites.find((site) => !SITE_ID.test(site));
  if (badSite !== undefined) throw new TectonicError('USAGE', `"${badSite}" is not a site id`);
  if (options.kind === 'regional' && options.sites.length === 0) throw new TectonicError('USAGE', 'a regional hub needs the sites it bridges (--sites a,b)');
  const port = options.regionalPort ?? 1884;
  if (!isTcpPort(port)) throw new TectonicError('USAGE', `${port} is not a TCP port`);
  const user = options.kind === 'central' ? options.id : `hub-${options.id}`;
  const password = randomBytes(24).toString('base64url');
  const common = [`TECTONIC_BUS_URL=${options.busUrl}`, `TECTONIC_BUS_USER=${user}`, `TECTONIC_BUS_PASSWORD=${password}`];
  const variables =
    options.kind === 'central'
      ? [
          ...common,
          // Where `tectonic hub new` puts what it is given, inside the kit.
          'TECTONIC_CATALOG_DIR=cdm',
          'TECTONIC_POLICY_FILE=policy.signed.json',
          'TECTONIC_POLICY_PUB=keys/central.pub',
          `TECTONIC_EXPECTED_SITES=${options.sites.join(',')}`,
          // The policy node loads only a policy it could enforce, and one with hash masks needs a key.
          `TECTONIC_POLICY_HASH_KEY=${randomBytes(32).toString('base64url')}`,
        ]
      : [
          ...common,
          `HUB_ID=${options.id}`,
          `HUB_SITES=${options.sites.join(',')}`,
          'TECTONIC_REGIONAL_BUS_HOST=127.0.0.1',
          `TECTONIC_REGIONAL_BUS_PORT=${port}`,
          'TECTONIC_REGIONAL_SECURITY=',
        ];
  const kit: Kit = new Map();
  kit.set('flows.json', options.template.flows);
  kit.set(
    'hub.env',
    [`# ${options.id}: the variables of the ${options.template.name} template ${options.template.version} (README.md, "Templates")`, ...variables, `TECTONIC_TEMPLATE_NAME=${options.template.name}`, `TECTONIC_TEMPLATE_VERSION=${options.template.version}`, ''].join('\n'),
  );
  kit.set('flows_cred.json', `${JSON.stringify({ [GLOBAL_BUS_NODE[options.kind]]: { user: '${TECTONIC_BUS_USER}', password: '${TECTONIC_BUS_PASSWORD}' } }, null, 2)}\n`);
  kit.set('settings.js', KIT_SETTINGS_JS);
  kit.set('identity/password', `${password}\n`);
  const line =
    options.kind === 'central'
      ? `- { name: ${user}, role: central, passwordHash: "${await options.passwordHash(password)}" }`
      : // The hub's own id is among its sites: its global connection announces the hub's state under it.
        `- { name: ${user}, role: hub, sites: [${[options.id, ...options.sites].join(', ')}], passwordHash: "${await options.passwordHash(password)}" }`;
  kit.set('identity/broker-user.yaml', `# Add to the central broker's users list (tectonic broker --config); the password itself stays with the hub.\n${line}\n`);
  kit.set('README.md', options.kind === 'central' ? centralGuide(options, user) : regionalGuide(options, user, port));
  return kit;
}

function start(): string {
  return 'Start Node-RED with the kit: `node --env-file=hub.env node_modules/node-red/red.js --userDir . --settings settings.js` (with the pack installed in this folder: `npm install node-red @tectonic/node-red-hybrid`).';
}

function centralGuide(options: HubKitOptions, user: string): string {
  return `# Central hub kit: ${options.id}

Made by \`tectonic hub new central\` for the ${options.template.name} template ${options.template.version}.

| file | what it is |
|---|---|
| \`flows.json\` | the vetted central hub; wire your central systems to its link out nodes from a tab of your own |
| \`hub.env\` | the hub's variables (bus, credentials, catalog, policy, expected sites); keep it secret |
| \`identity/\` | the bus password and the line for the broker's users list (role \`central\`) |

1. Add \`identity/broker-user.yaml\` to the broker's users (\`tectonic broker --config\`).
2. Put the catalog in \`TECTONIC_CATALOG_DIR\` and the signed policy in \`TECTONIC_POLICY_FILE\` (\`tectonic policy sign\`), its public key in \`TECTONIC_POLICY_PUB\`.
3. ${start()}
4. Publish the site template's fingerprint for drift detection: \`npx tectonic template fingerprint flows/site-agent.json --name site-agent --version ${options.template.version} --publish URL\`.
5. Watch the fleet at \`/tectonic/fleet\` in the editor's address.

The broker user is \`${user}\`: it publishes the catalog, the policy and the alerts, and reads every site.
`;
}

function regionalGuide(options: HubKitOptions, user: string, port: number): string {
  return `# Regional hub kit: ${options.id}

Made by \`tectonic hub new regional\` for the ${options.template.name} template ${options.template.version}.

| file | what it is |
|---|---|
| \`flows.json\` | the vetted regional hub: a regional bus and a bridge to the global bus |
| \`hub.env\` | the hub's variables (global bus, credentials, its sites, the regional bus); keep it secret |
| \`identity/\` | the bus password and the line for the central broker's users list (role \`hub\`) |

1. Send \`identity/broker-user.yaml\` to the central team: the hub may then act for ${options.sites.join(', ')}.
2. ${start()}
3. Point each site's agent at the regional bus (\`TECTONIC_BUS_URL=mqtt://THIS-HOST:${port}\` in its \`site.env\`).
   With \`TECTONIC_REGIONAL_BUS_HOST=127.0.0.1\` and no \`TECTONIC_REGIONAL_SECURITY\` file the regional bus admits only this machine;
   to admit the sites from their own machines, listen on their network and give a security file with their users lines (docs/security.md).

The broker user is \`${user}\`: it has the rights of its sites together, nothing more.
`;
}
