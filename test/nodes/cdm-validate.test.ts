// cdm-catalog and cdm-validate inside Node-RED: the bundled sample, a folder
// that changes under a running flow, a URL, and a site that receives its
// catalog over the bus from a central instance (embedded aedes).
import should from 'should';
import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import { encodeCatalogBundle } from '../../lib/catalog/catalog-bundle';
import { BREAKING_SHIPMENT_120, COMPATIBLE_SHIPMENT_120, castingCatalog, isoDay, shipment, withShipmentSunset, writeCatalog } from '../lib/catalog/catalog-fixtures';
import { SAMPLE_CATALOG_DIR, sampleFiles } from '../lib/catalog/helpers';
import { freePort, repoRoot, tempDir, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, calls, helper, load, logged, node, startServer, stopServer } from '../support/red-helper';

type Reasons = Array<{ path: string; rule: string; message: string }>;
type Status = { fill?: string; shape?: string; text?: string };

function validateNode(over: Msg = {}): Msg {
  return { id: 'validate', type: 'cdm-validate', z: 'f1', x: 200, y: 100, catalog: 'catalog', entity: '', entityType: 'str', version: '', versionType: 'str', castTo: '', castToType: 'str', wires: [['valid'], ['rejected']], ...over };
}

function flow(catalog: Msg, validate: Msg = {}, extra: Msg[] = []): Msg[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'catalog', type: 'cdm-catalog', z: '', source: 'bundled', folder: '', folderType: 'str', url: '', urlType: 'str', bus: '', refresh: '', publishToBus: '', policy: 'STRICT', ...catalog },
    validateNode(validate),
    { id: 'valid', type: 'helper', z: 'f1', x: 400, y: 80, wires: [] },
    { id: 'rejected', type: 'helper', z: 'f1', x: 400, y: 120, wires: [] },
    { id: 'catch', type: 'catch', z: 'f1', x: 100, y: 300, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1', x: 300, y: 300, wires: [] },
    ...extra,
  ];
}

let serial = 0;
function cdm(entity: string, version: string): Msg {
  serial += 1;
  return { entity, version, site: 'site-a', id: `01JDVAL${String(serial).padStart(6, '0')}`, time: '2026-11-24T07:00:01.250Z', source: 'urn:tectonic:site-a:test' };
}

interface Outputs {
  valid: Inbox;
  rejected: Inbox;
  caught: Inbox;
}

async function deploy(catalog: Msg, validate: Msg = {}, extra: Msg[] = []): Promise<Outputs> {
  await load(flow(catalog, validate, extra));
  return { valid: new Inbox(node('valid')), rejected: new Inbox(node('rejected')), caught: new Inbox(node('caught')) };
}

/** Sends one message and returns where it came out: exactly one of the two outputs, never a caught error. */
async function send(out: Outputs, payload: unknown, envelope: Msg | undefined, target = 'validate'): Promise<{ output: 'valid' | 'rejected'; msg: Msg }> {
  const id = `m${(serial += 1)}`;
  const msg: Msg = { _probe: id, payload };
  if (envelope !== undefined) msg.cdm = envelope;
  node(target).receive(msg);
  const mine = (m: Msg): boolean => m._probe === id;
  const first = await Promise.race([out.valid.next(mine).then((m) => ({ output: 'valid' as const, msg: m })), out.rejected.next(mine).then((m) => ({ output: 'rejected' as const, msg: m }))]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const count = out.valid.messages.filter(mine).length + out.rejected.messages.filter(mine).length;
  should(count).equal(1, 'the message left on exactly one output');
  should(out.caught.messages.length).equal(0, `no error: ${JSON.stringify(out.caught.messages[0]?.error)}`);
  return first;
}

async function expectValid(out: Outputs, payload: unknown, envelope: Msg | undefined, target?: string): Promise<Msg> {
  const { output, msg } = await send(out, payload, envelope, target);
  should(output).equal('valid', `rejected: ${JSON.stringify(msg.reject)}`);
  return msg;
}

async function expectRejected(out: Outputs, payload: unknown, envelope: Msg | undefined, target?: string): Promise<{ msg: Msg; reasons: Reasons }> {
  const { output, msg } = await send(out, payload, envelope, target);
  should(output).equal('rejected', 'expected the reject output');
  const reject = msg.reject as { stage: string; reasons: Reasons };
  should(reject.stage).equal('cdm-validate');
  should(Array.isArray(reject.reasons) && reject.reasons.length > 0).be.true();
  return { msg, reasons: reject.reasons };
}

/** Records the statuses a node shows from now on. */
function watchStatus(id: string): () => Status[] {
  const seen = calls(node(id), 'status');
  return () => seen.map((c) => c.args[0] as Status);
}

async function statusMatching(statuses: () => Status[], predicate: (s: Status) => boolean, message: string): Promise<Status> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = statuses().reverse().find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`${message} not shown within 5000 ms; saw ${JSON.stringify(statuses())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function validWhenReady(out: Outputs, payload: unknown, envelope: () => Msg | undefined, timeoutMs = 10_000): Promise<Msg> {
  return waitFor(
    async () => {
      const { output, msg } = await send(out, payload, envelope());
      return output === 'valid' ? msg : undefined;
    },
    { timeoutMs, intervalMs: 100, message: 'the message to validate' },
  );
}

describe('cdm-validate with the bundled catalog', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  it('a valid record passes, marked validated, payload and envelope otherwise intact', async () => {
    const out = await deploy({ source: 'bundled' });
    const envelope = cdm('shipment', '1.1.0');
    const record = shipment({ carrier: { name: 'Rhenus', scac: 'RHNS' }, trackingUrl: 'https://track.example/1' });
    const msg = await validWhenReady(out, record, () => envelope);
    should(msg.payload).eql(record);
    should(msg.cdm).eql({ ...envelope, validated: 'shipment@1.1.0' });
    const statuses = watchStatus('validate');
    await expectValid(out, record, cdm('shipment', '1.1.0'));
    await statusMatching(statuses, (s) => s.fill === 'green' && /^valid \d+ · rejected \d+$/.test(s.text ?? ''), 'a green "valid N · rejected M"');
  });

  it('a wrong-typed id is rejected with its path; the message is otherwise intact', async () => {
    const out = await deploy({ source: 'bundled' });
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.1.0'));
    const envelope = { ...cdm('shipment', '1.1.0'), validated: 'shipment@1.1.0' };
    const payload = shipment({ shipmentId: 4711 });
    const { msg, reasons } = await expectRejected(out, payload, envelope);
    should(reasons).eql([{ path: 'shipmentId', rule: 'type', message: 'must be string, got integer' }]);
    should(msg.payload).eql(payload);
    const { validated: _stale, ...rest } = envelope;
    should(msg.cdm).eql(rest, 'an earlier validated mark is removed');
  });

  it('an unknown entity or version is rejected with a clear reason', async () => {
    const out = await deploy({ source: 'bundled' });
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.1.0'));
    const entity = await expectRejected(out, shipment(), cdm('parcel', '1.0.0'));
    should(entity.reasons[0]?.rule).equal('unknown-entity');
    should(entity.reasons[0]?.path).equal('cdm.entity');
    should(entity.reasons[0]?.message ?? '').match(/no entity "parcel"; it knows .*shipment/);
    const version = await expectRejected(out, shipment(), cdm('shipment', '7.0.0'));
    should(version.reasons[0]?.rule).equal('unknown-version');
    should(version.reasons[0]?.message ?? '').match(/shipment 7\.0\.0, which the catalog \([0-9a-f]{8}\) does not have; it has 1\.0\.0, 1\.1\.0/);
  });

  it('no msg.cdm and no fixed entity: rejected with the reason', async () => {
    const out = await deploy({ source: 'bundled' });
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.1.0'));
    const { reasons } = await expectRejected(out, shipment(), undefined);
    should(reasons.map((r) => `${r.path} ${r.rule}`)).eql(['cdm.entity required', 'cdm.version required']);
    should(reasons[0]?.message ?? '').match(/the message has no msg\.cdm and the node sets no fixed entity/);
  });

  it('fixed entity and version, from a value and from environment variables', async () => {
    process.env.TECTONIC_TEST_ENTITY = 'shipment';
    const out = await deploy({ source: 'bundled' }, { entity: 'TECTONIC_TEST_ENTITY', entityType: 'env', version: '1.1.0', versionType: 'str' });
    const msg = await validWhenReady(out, shipment(), () => undefined);
    should(msg.cdm).eql({ entity: 'shipment', version: '1.1.0', validated: 'shipment@1.1.0' });
    const mismatch = await expectRejected(out, shipment(), cdm('shipment', '1.0.0'));
    should(mismatch.reasons[0]?.rule).equal('envelope-mismatch');
    delete process.env.TECTONIC_TEST_ENTITY;
  });

  it('an unset environment variable rejects every message with the reason, and says so', async () => {
    delete process.env.TECTONIC_TEST_UNSET_VERSION;
    const out = await deploy({ source: 'bundled' }, { entity: 'shipment', version: 'TECTONIC_TEST_UNSET_VERSION', versionType: 'env' });
    const { reasons } = await expectRejected(out, shipment(), undefined);
    should(reasons[0]?.rule).equal('not-configured');
    should(reasons[0]?.message ?? '').match(/environment variable TECTONIC_TEST_UNSET_VERSION is not set/);
  });

  it('formats are checked: date-time, email, date, uuid', async () => {
    const out = await deploy({ source: 'bundled' });
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.1.0'));
    const shipmentBad = await expectRejected(out, shipment({ occurredAt: '24.11.2026 07:00' }), cdm('shipment', '1.1.0'));
    should(shipmentBad.reasons.map((r) => `${r.path} ${r.rule}`)).eql(['occurredAt format']);
    const lab = {
      resultId: 'LR-1',
      patient: { name: 'Erika Mustermann', birthDate: '1970-02-30', ids: [{ system: 'mrn', value: 'M-1' }] },
      analyte: '2345-7',
      result: { value: 5.4, unit: 'mmol/L' },
      reportedBy: 'lab at example',
      collectedAt: '2026-11-24T06:00:00Z',
      siteId: 'site-a',
    };
    const labBad = await expectRejected(out, lab, cdm('lab-result', '1.1.0'));
    should(labBad.reasons.map((r) => `${r.path} ${r.rule}`).sort()).eql(['patient.birthDate format', 'reportedBy format']);
    await expectValid(out, { ...lab, patient: { ...lab.patient, birthDate: '1970-02-28' }, reportedBy: 'lab@hospital.example' }, cdm('lab-result', '1.1.0'));
    const quality = { measurementId: 'not-a-uuid', lineId: 'L1' };
    const q = await expectRejected(out, quality, cdm('quality-measurement', '1.0.0'));
    should(q.reasons.some((r) => r.path === 'measurementId' && r.rule === 'format')).be.true(JSON.stringify(q.reasons));
  });

  it('hostile payloads go to the reject output, never crash, never pollute', async () => {
    const out = await deploy({ source: 'bundled' });
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.1.0'));
    const cyclic: Msg = shipment();
    cyclic.self = cyclic;
    const hostile: Array<[string, unknown, string]> = [
      ['nested 10,000 deep', JSON.parse('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)) as unknown, 'too-deep'],
      ['a __proto__ key', JSON.parse('{"shipmentId":"S-1","__proto__":{"polluted":true}}') as unknown, 'forbidden-key'],
      ['a 5 MB string', shipment({ shipmentId: 'x'.repeat(5_000_000) }), 'string-too-long'],
      ['a long string where the schema bounds it', shipment({ carrier: { name: 'y'.repeat(10_000) } }), 'maxLength'],
      ['an email-like string of 500 kB', shipment({ siteId: `${'a'.repeat(500_000)}@` }), 'pattern'],
      ['wrong types everywhere', { shipmentId: [], occurredAt: 5, status: {}, weightKg: '12', siteId: null }, 'type'],
      ['a cycle', cyclic, 'too-deep'],
      ['a string payload', '{"shipmentId":"S-1"}', 'type'],
      ['a null payload', null, 'type'],
      ['a Buffer payload', Buffer.from('{"shipmentId":"S-1"}'), 'type'],
      ['no payload at all', undefined, 'type'],
    ];
    for (const [what, payload, rule] of hostile) {
      const started = Date.now();
      const { reasons } = await expectRejected(out, payload, cdm('shipment', '1.1.0'));
      should(reasons.some((r) => r.rule === rule)).be.true(`${what}: ${JSON.stringify(reasons).slice(0, 400)}`);
      should(Date.now() - started < 2000).be.true(`${what} took ${Date.now() - started} ms`);
    }
    should(({} as Msg).polluted).equal(undefined, 'Object.prototype untouched');
    await expectValid(out, shipment(), cdm('shipment', '1.1.0'));
  });

  it('the status counts valid and rejected messages', async () => {
    const out = await deploy({ source: 'bundled' });
    const statuses = watchStatus('validate');
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.1.0'));
    await expectRejected(out, shipment({ weightKg: -1 }), cdm('shipment', '1.1.0'));
    const target = helper.getNode('validate') as unknown as { validCount: number; rejectedCount: number };
    await statusMatching(statuses, (s) => s.text === `valid ${target.validCount} · rejected ${target.rejectedCount}` && target.rejectedCount >= 1, 'the counts in the status');
  });
});

describe('cdm-catalog: a folder that changes under a running flow', () => {
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  before(startServer);
  afterEach(async () => {
    await helper.unload();
    await dir?.remove();
    dir = undefined;
  });
  after(stopServer);

  async function folderOf(files: Map<string, string>): Promise<string> {
    dir = await tempDir('tectonic-cdm-');
    await writeCatalog(dir.path, files);
    return dir.path;
  }

  it('a new version file becomes valid within the poll interval, without a redeploy', async () => {
    const path = await folderOf(sampleFiles());
    const out = await deploy({ source: 'folder', folder: path, refresh: '0.2' });
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.1.0'));
    const before = await expectRejected(out, shipment({ reference: 'R-1' }), cdm('shipment', '1.2.0'));
    should(before.reasons[0]?.rule).equal('unknown-version');
    const written = Date.now();
    await writeFile(join(path, 'shipment', '1.2.0.schema.json'), COMPATIBLE_SHIPMENT_120);
    const msg = await validWhenReady(out, shipment({ reference: 'R-1' }), () => cdm('shipment', '1.2.0'), 5000);
    should((msg.cdm as Msg).validated).equal('shipment@1.2.0');
    should(Date.now() - written < 3000).be.true(`took ${Date.now() - written} ms for a 200 ms interval`);
    should(logged('cdm-catalog', 40).some((m) => /catalog [0-9a-f]{8} in force .* replacing [0-9a-f]{8}/.test(m))).be.true('the reload is in the log');
  });

  it('an incompatible new version is refused: the status says so, the old catalog stays in force', async () => {
    const path = await folderOf(sampleFiles());
    const out = await deploy({ source: 'folder', folder: path, refresh: '0.2' });
    const statuses = watchStatus('validate');
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.1.0'));
    await writeFile(join(path, 'shipment', '1.2.0.schema.json'), BREAKING_SHIPMENT_120);
    const refused = await statusMatching(statuses, (s) => s.fill === 'yellow' && /refused/.test(s.text ?? ''), 'a yellow status naming the refusal');
    should(refused.text ?? '').match(/^catalog [0-9a-f]{8} refused: shipment@1\.2\.0 \$\.priority: required-added; [0-9a-f]{8} in force/);
    const warnings = logged('cdm-catalog', 30);
    should(warnings.some((m) => /refused, catalog [0-9a-f]{8} stays in force/.test(m) && m.includes('required-added'))).be.true(warnings.join('\n'));
    await expectValid(out, shipment(), cdm('shipment', '1.1.0'));
    const unknown = await expectRejected(out, shipment({ priority: 1 }), cdm('shipment', '1.2.0'));
    should(unknown.reasons[0]?.rule).equal('unknown-version');
    // Fixed by the central team: the compatible version replaces the refused one.
    await writeFile(join(path, 'shipment', '1.2.0.schema.json'), COMPATIBLE_SHIPMENT_120);
    await validWhenReady(out, shipment({ reference: 'R-2' }), () => cdm('shipment', '1.2.0'), 5000);
    await statusMatching(statuses, (s) => s.fill === 'green', 'green again');
  });

  it('deprecation: passes with a warning (once per version) before the sunset, rejected after', async () => {
    const path = await folderOf(withShipmentSunset(isoDay(30)));
    const out = await deploy({ source: 'folder', folder: path, refresh: '0.2' });
    const statuses = watchStatus('validate');
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.0.0'));
    await expectValid(out, shipment(), cdm('shipment', '1.0.0'));
    await expectValid(out, shipment(), cdm('shipment', '1.0.0'));
    const target = helper.getNode('validate') as unknown as { deprecatedPassed: number };
    should(target.deprecatedPassed).equal(3);
    const warnings = logged('cdm-validate', 30).filter((m) => m.includes('shipment 1.0.0 is deprecated'));
    should(warnings.length).equal(1, 'warned once');
    should(warnings[0] ?? '').match(new RegExp(`rejected after ${isoDay(30)}`));
    await statusMatching(statuses, (s) => s.fill === 'yellow' && (s.text ?? '').includes(`deprecated shipment 1.0.0 (sunset ${isoDay(30)})`), 'a yellow deprecation status');

    // The central team moves the sunset to yesterday: the next poll puts it in force.
    await writeCatalog(path, withShipmentSunset(isoDay(-1)));
    const sunset = await waitFor(
      async () => {
        const { output, msg } = await send(out, shipment(), cdm('shipment', '1.0.0'));
        return output === 'rejected' ? (msg.reject as { reasons: Reasons }).reasons : undefined;
      },
      { timeoutMs: 5000, intervalMs: 100, message: 'the sunset to take effect' },
    );
    should(sunset[0]?.rule).equal('sunset');
    should(sunset[0]?.path).equal('cdm.version');
  });

  it('cast up (1.0.0 -> 1.2.0, two migrations) and down (1.2.0 -> 1.0.0)', async () => {
    const path = await folderOf(castingCatalog());
    const out = await deploy({ source: 'folder', folder: path }, { castTo: '1.2.0' }, [validateNode({ id: 'down', y: 200, castTo: '1.0.0' })]);
    const up = await validWhenReady(out, shipment({ carrier: { name: 'Rhenus' } }), () => cdm('shipment', '1.0.0'));
    should((up.cdm as Msg).version).equal('1.2.0');
    should((up.cdm as Msg).validated).equal('shipment@1.2.0');
    should(up.payload).eql(shipment({ carrier: { name: 'Rhenus' }, reference: 'UPCAST' }));
    const down = await expectValid(out, shipment({ reference: 'R', trackingUrl: 'https://t.example/1', carrier: { name: 'DHL', scac: 'DHLX' } }), cdm('shipment', '1.2.0'), 'down');
    should((down.cdm as Msg).validated).equal('shipment@1.0.0');
    should(down.payload).eql(shipment({ carrier: { name: 'DHL' } }));
    const payload = shipment({ status: 'cancelled' });
    const notDown = await expectRejected(out, payload, cdm('shipment', '1.1.0'), 'down');
    should(notDown.reasons[0]?.rule).equal('cast-invalid');
    should(notDown.msg.payload).eql(payload, 'a rejected cast leaves the payload as it arrived');
    should((notDown.msg.cdm as Msg).version).equal('1.1.0');
  });
});

describe('cdm-catalog: a URL', () => {
  let server: Server;
  let base = '';
  let body = encodeCatalogBundle(sampleFiles()).text;
  before(async () => {
    await startServer();
    server = createServer((req, res) => {
      if (req.url === '/hang') return;
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => helper.unload());
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await stopServer();
  });

  it('validates with the bundle served at the URL (from an environment variable)', async () => {
    body = encodeCatalogBundle(sampleFiles()).text;
    process.env.TECTONIC_TEST_CDM_URL = `${base}/cdm.json`;
    const out = await deploy({ source: 'url', url: 'TECTONIC_TEST_CDM_URL', urlType: 'env', refresh: '60' });
    await validWhenReady(out, shipment(), () => cdm('shipment', '1.1.0'));
    delete process.env.TECTONIC_TEST_CDM_URL;
  });

  it('a fetch in flight does not hold up a redeploy', async () => {
    await deploy({ source: 'url', url: `${base}/hang`, refresh: '60' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await helper.unload();
    should(Date.now() - started < 3000).be.true(`unload took ${Date.now() - started} ms`);
  });
});

describe('cdm-catalog over the bus: a site with no catalog of its own', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  it('waits for the catalog (red status, rejects with no-catalog) while nothing is retained', async () => {
    const out = await deploy({ source: 'bus', bus: 'site-bus' }, {}, [{ id: 'site-bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: '0' }]);
    const statuses = watchStatus('validate');
    const { reasons } = await expectRejected(out, shipment(), cdm('shipment', '1.1.0'));
    should(reasons[0]?.rule).equal('no-catalog');
    await statusMatching(statuses, (s) => s.fill === 'red' && s.text === 'waiting for catalog', 'a red "waiting for catalog"');
  });

  it('validates with the schemas a central instance published, retained, on the bus', async () => {
    const port = await freePort();
    // Central: the bundled catalog, published to its embedded broker.
    // Site: its own connection to that broker as an external one, and a catalog from the bus only.
    const central: Msg[] = [
      { id: 'central-bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: String(port) },
      { id: 'central-catalog', type: 'cdm-catalog', z: '', source: 'folder', folder: SAMPLE_CATALOG_DIR, folderType: 'str', refresh: '60', publishToBus: 'central-bus', policy: 'STRICT' },
      { id: 'site-bus', type: 'tectonic-bus', z: '', mode: 'external', url: `mqtt://127.0.0.1:${port}`, protocolVersion: '4', clientId: 'site-a-test' },
    ];
    const out = await deploy({ source: 'bus', bus: 'site-bus' }, {}, central);
    const msg = await validWhenReady(out, shipment({ carrier: { name: 'Rhenus' } }), () => cdm('shipment', '1.1.0'), 15_000);
    should((msg.cdm as Msg).validated).equal('shipment@1.1.0');
    const bad = await expectRejected(out, shipment({ shipmentId: 1 }), cdm('shipment', '1.1.0'));
    should(bad.reasons[0]?.path).equal('shipmentId');
    const info = logged('cdm-catalog', 40);
    should(info.some((m) => /catalog [0-9a-f]{8} published to the bus: 11 retained messages/.test(m))).be.true(info.join('\n'));
    should(info.some((m) => /catalog [0-9a-f]{8} in force \(STRICT\) from bus tectonic\/cdm\/_catalog/.test(m))).be.true(info.join('\n'));
  });
});

describe('example 04 "Validate against the catalog"', () => {
  before(startServer);
  afterEach(() => helper.unload());
  after(stopServer);

  it('its good shipment passes, its bad one is rejected with every problem, its 1.0.0 passes deprecated', async () => {
    const example = JSON.parse(await readFile(join(repoRoot, 'examples', '04 Validate against the catalog.json'), 'utf8')) as Array<Msg & { id: string; type: string }>;
    should(example.every((n) => n.id.startsWith('ex04-'))).be.true('ids carry the ex04- prefix');
    should(!example.some((n) => n.type === 'tab')).be.true('no tab node');
    const injects = example.filter((n) => n.type === 'inject');
    // The editor's debug nodes become helpers here, and the inject buttons are pressed by hand.
    const flowNodes = example
      .filter((n) => n.type !== 'inject' && n.type !== 'comment')
      .map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper', z: n.z, wires: [] } : n));
    await load([{ id: 'example-validate', type: 'tab', label: '04' }, ...flowNodes]);
    const valid = new Inbox(node('ex04-valid'));
    const rejected = new Inbox(node('ex04-rejected'));
    const press = (id: string): void => {
      const inject = injects.find((n) => n.id === id) as unknown as { props: Array<{ p: string; v: string }> };
      const msg: Msg = { _probe: id };
      for (const prop of inject.props) msg[prop.p] = JSON.parse(prop.v) as unknown;
      node('ex04-validate').receive(msg);
    };
    await waitFor(async () => {
      press('ex04-good');
      return valid.next((m) => m._probe === 'ex04-good', 200).catch(() => undefined);
    }, { message: 'the good shipment to pass' });
    press('ex04-bad');
    const bad = await rejected.next((m) => m._probe === 'ex04-bad');
    const rules = (bad.reject as { reasons: Reasons }).reasons.map((r) => `${r.path} ${r.rule}`).sort();
    should(rules).eql(['colour additionalProperties', 'occurredAt format', 'shipmentId type', 'status enum', 'weightKg minimum']);
    press('ex04-deprecated');
    // The sample's sunset for shipment 1.0.0 is 2027-06-30: this test keeps working after it.
    if (Date.now() < Date.parse('2027-07-01T00:00:00Z')) {
      const old = await valid.next((m) => m._probe === 'ex04-deprecated');
      should((old.cdm as Msg).validated).equal('shipment@1.0.0');
    } else {
      const old = await rejected.next((m) => m._probe === 'ex04-deprecated');
      should((old.reject as { reasons: Reasons }).reasons[0]?.rule).equal('sunset');
    }
  });
});
