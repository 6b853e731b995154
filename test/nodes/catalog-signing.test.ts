// Signed catalogs inside Node-RED: a central cdm-catalog with a signing key
// (a credential) publishes the signed bundle on its embedded bus; a site's
// cdm-catalog trusting the central key (a credential) puts it in force; a
// site trusting another key refuses it and says why in its log and in the
// status of the cdm-validate that uses it.
import should from 'should';
import { after, afterEach, before, describe, it } from 'mocha';
import { generatePolicyKeyPair } from '../../lib/policy/signature';
import { freePort, waitFor } from '../support/node-red-process';
import { type Msg, calls, helper, load, logged, node, startServer, stopServer } from '../support/red-helper';

const central = generatePolicyKeyPair();
const other = generatePolicyKeyPair();

function flow(port: number): Msg[] {
  return [
    { id: 'f1', type: 'tab', label: 'signing' },
    { id: 'central-bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: String(port) },
    { id: 'central-catalog', type: 'cdm-catalog', z: '', source: 'bundled', publishToBus: 'central-bus', policy: 'STRICT' },
    { id: 'site-bus', type: 'tectonic-bus', z: '', mode: 'external', url: `mqtt://127.0.0.1:${port}`, protocolVersion: '4', clientId: 'site-signing' },
    { id: 'site-catalog', type: 'cdm-catalog', z: '', source: 'bus', bus: 'site-bus', policy: 'STRICT' },
    { id: 'validate', type: 'cdm-validate', z: 'f1', catalog: 'site-catalog', entity: '', entityType: 'str', version: '', versionType: 'str', castTo: '', castToType: 'str', wires: [[], []] },
  ];
}

describe('cdm-catalog: signing at the centre, trusted keys at the site', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  it('the site puts the centrally signed catalog in force', async () => {
    await load(flow(await freePort()), { 'central-catalog': { signingKey: central.privateKeyPem }, 'site-catalog': { publicKeys: central.publicKeyPem } });
    await waitFor(() => logged('cdm-catalog', 40).some((m) => /catalog [0-9a-f]{8} in force \(STRICT\) from bus tectonic\/cdm\/_catalog/.test(m)), { timeoutMs: 15_000, message: 'the signed catalog in force at the site' });
  });

  it('a site trusting another key refuses it, in its log and in the status of its users', async () => {
    await load(flow(await freePort()), { 'central-catalog': { signingKey: central.privateKeyPem }, 'site-catalog': { publicKeys: other.publicKeyPem } });
    const statuses = calls(node('validate'), 'status');
    await waitFor(() => logged('cdm-catalog', 30).some((m) => /refused, no catalog is in force:\n\s*catalog-unknown-key/.test(m)), { timeoutMs: 15_000, message: 'the refusal in the log' });
    await waitFor(() => statuses.some((c) => /catalog refused: signature\.keyId: catalog-unknown-key/.test(String((c.args[0] as { text?: string }).text))), { timeoutMs: 5_000, message: `the refusal in cdm-validate's status: ${JSON.stringify(statuses.map((c) => c.args[0]))}` });
    should(logged('cdm-catalog', 40).some((m) => /in force .* from bus/.test(m))).be.false();
  });
});
