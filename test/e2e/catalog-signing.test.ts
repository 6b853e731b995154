// Issue 20's forged catalog, replayed against a real site: a headless
// Node-RED whose cdm-catalog reads the bus (an aedes broker in a process of
// its own, no authentication) and trusts the central team's key. An
// anonymous MQTT client publishes, retained, on tectonic/cdm/_catalog what
// the attacker could: a bundle with a correct digest and no signature, the
// genuine signature over other files, one signed by a key of its own, and
// an older genuine bundle (a rollback). Each is refused, the log says why,
// and validation keeps the catalog in force: shipment 1.2.0 (`{"type":"object"}`
// in the forgery, any record "valid") stays unknown. A newer genuine bundle
// then goes in force.
import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { catalogDigest, encodeCatalogBundle } from '../../lib/catalog/catalog-bundle';
import { signCatalogFiles } from '../../lib/catalog/catalog-signing';
import { generatePolicyKeyPair } from '../../lib/policy/signature';
import { COMPATIBLE_SHIPMENT_120, shipment } from '../lib/catalog/catalog-fixtures';
import { sampleFiles } from '../lib/catalog/helpers';
import { type BrokerProcess, startBrokerProcess } from '../support/broker-process';
import { type FlowNode, type NodeRedProcess, startNodeRed, tempDir, waitFor } from '../support/node-red-process';

const TOPIC = 'tectonic/cdm/_catalog';
const central = generatePolicyKeyPair();
const attacker = generatePolicyKeyPair();

function signed(files: Map<string, string>, sequence: number, key = central.privateKeyPem): string {
  const out = signCatalogFiles(files, sequence, key);
  if (!out.ok) throw new Error(out.reason.message);
  return out.text;
}

/** The attack: any record passes as shipment 1.2.0. Compatible with 1.1.0 under BACKWARD, so only the signature stops it. */
function forgedFiles(): Map<string, string> {
  return new Map([...sampleFiles(), ['shipment/1.2.0.schema.json', JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'https://tectonic.example/cdm/shipment/1.2.0', type: 'object' })]]);
}

function flows(brokerUrl: string, keyFile: string): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'site' },
    { id: 'bus', type: 'tectonic-bus', z: '', mode: 'external', url: brokerUrl, protocolVersion: '4', clientId: 'site-signing-test' },
    { id: 'catalog', type: 'cdm-catalog', z: '', source: 'bus', bus: 'bus', policy: 'STRICT', publicKeyFile: keyFile, publicKeyFileType: 'str' },
    { id: 'in', type: 'http in', z: 'tab', url: '/check', method: 'post', upload: false, wires: [['validate']] },
    { id: 'validate', type: 'cdm-validate', z: 'tab', catalog: 'catalog', entity: 'shipment', entityType: 'str', version: '1.2.0', versionType: 'str', castTo: '', castToType: 'str', wires: [['valid'], ['rejected']] },
    { id: 'valid', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"verdict":"valid"}', tot: 'json' }], wires: [['out']] },
    { id: 'rejected', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"verdict": "rejected", "rule": reject.reasons[0].rule}', tot: 'jsonata' }], wires: [['out']] },
    { id: 'out', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] },
  ];
}

describe('e2e: signed catalogs over a real broker (issue 20, forged catalog replay)', function () {
  this.timeout(120_000);
  let broker: BrokerProcess;
  let nr: NodeRedProcess;
  let attackerClient: MqttClient;
  let dir: { path: string; remove(): Promise<void> };

  before(async () => {
    broker = await startBrokerProcess({ persistence: 'memory' });
    dir = await tempDir('tectonic-catalog-keys-');
    const keyFile = join(dir.path, 'central.pub');
    await writeFile(keyFile, central.publicKeyPem);
    nr = await startNodeRed({ flows: flows(broker.url, keyFile) });
    attackerClient = connect(broker.url, { clientId: `anonymous-${process.pid}`, reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      attackerClient.once('connect', () => resolve());
      attackerClient.once('error', reject);
    });
  });

  after(async () => {
    attackerClient?.end(true);
    await nr?.stop();
    await broker?.stop();
    await dir?.remove();
  });

  async function publish(text: string): Promise<void> {
    await attackerClient.publishAsync(TOPIC, text, { qos: 1, retain: true });
  }

  async function verdict(): Promise<{ verdict: string; rule?: string }> {
    const res = await fetch(`${nr.url}/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(shipment({ anything: 'goes' })) });
    return (await res.json()) as { verdict: string; rule?: string };
  }

  async function refusedWith(rule: string): Promise<void> {
    await waitFor(() => new RegExp(`catalog from bus tectonic/cdm/_catalog refused, catalog [0-9a-f]{8} stays in force:\\n\\s*${rule}`).test(nr.logs().slice(offset)), { timeoutMs: 15_000, message: `the refusal ${rule} in the log` });
    offset = nr.logs().length;
    assert.deepEqual(await verdict(), { verdict: 'rejected', rule: 'unknown-version' }, `${rule}: shipment 1.2.0 is still unknown`);
    console.log(`    refused ${rule}; the catalog in force stays`);
  }
  let offset = 0;

  it('takes the genuine catalog, refuses forged, unsigned, foreign-key and rolled-back bundles, then takes a newer genuine one', async () => {
    const genuine = signed(sampleFiles(), 100);
    await publish(genuine);
    await nr.waitForLog(/catalog [0-9a-f]{8} in force \(STRICT\) from bus tectonic\/cdm\/_catalog/, 20_000);
    offset = nr.logs().length;
    assert.deepEqual(await verdict(), { verdict: 'rejected', rule: 'unknown-version' });

    // Correct digest, no signature: the attack as it was, a format 1 bundle.
    await publish(encodeCatalogBundle(forgedFiles()).text);
    await refusedWith('catalog-unsigned');

    // Correct digest over the forged files, the genuine signature left in place.
    const bundle = JSON.parse(genuine) as Record<string, unknown>;
    const files = forgedFiles();
    await publish(JSON.stringify({ ...bundle, files: Object.fromEntries(files), digest: catalogDigest(files) }));
    await refusedWith('catalog-bad-signature');

    await publish(signed(forgedFiles(), 101, attacker.privateKeyPem));
    await refusedWith('catalog-unknown-key');

    await publish(signed(new Map([...sampleFiles(), ['shipment/1.2.0.schema.json', COMPATIBLE_SHIPMENT_120]]), 99));
    await refusedWith('catalog-rollback');

    // The centre's next catalog, genuinely signed with a higher sequence, goes in force.
    await publish(signed(new Map([...sampleFiles(), ['shipment/1.2.0.schema.json', COMPATIBLE_SHIPMENT_120]]), 101));
    // shipment 1.2.0 is now known: the record is judged by its schema (closed, so the extra field is refused), not by unknown-version.
    const judged = await waitFor(async () => {
      const v = await verdict();
      return v.rule !== 'unknown-version' ? v : undefined;
    }, { timeoutMs: 15_000, message: 'the newer genuine catalog in force' });
    assert.deepEqual(judged, { verdict: 'rejected', rule: 'additionalProperties' });
    assert.doesNotMatch(nr.logs(), /BEGIN PRIVATE KEY/);
  });

  // The same running Node-RED: its admin API is the one a browser would reach.
  it('the admin endpoints refuse a cross-site form POST (415) and take JSON', async () => {
    const form = new URLSearchParams({ 'spec[entity]': 'shipment', 'spec[version]': '1.0.0', 'spec[rules][0][to]': 'x', 'spec[rules][0][value]': '1' });
    const posted = await nr.api('/tectonic/map/try', { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    assert.equal(posted.status, 415);
    assert.match(((await posted.json()) as { message: string }).message, /accepts only application\/json/);
    const plain = await nr.api('/tectonic/map/try', { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' }, body: '{"spec":{}}' });
    assert.equal(plain.status, 415);
    const json = await nr.api('/tectonic/map/try', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: { entity: 'shipment', version: '1.0.0', rules: [{ to: 'x', value: 1 }] }, record: {} }) });
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), { ok: true, value: { x: 1 } });
  });
});
