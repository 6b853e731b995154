// tectonic-policy and policy-gate inside Node-RED: a table per rule kind,
// the tamper cases (each refused, the gate failing closed with the reason in
// its status and on its reject output), a hot update from a central instance
// over a real broker (embedded aedes), a restart without the network that
// still enforces the cached bundle, and example 06.
import should from 'should';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'mocha';
import type { JsonObject } from '../../lib/catalog/types';
import { generatePolicyKeyPair, signBundle } from '../../lib/policy/signature';
import type { PolicyKeyPair } from '../../lib/policy/signature';
import type { PolicyView, TectonicPolicyNode } from '../../nodes/support/policy-config';
import { freePort, repoRoot, tempDir, waitFor } from '../support/node-red-process';
import { Inbox, type Msg, calls, helper, load, logged, node, startServer, stopServer } from '../support/red-helper';

type Reasons = Array<{ path: string; rule: string; message: string }>;
type Status = { fill?: string; shape?: string; text?: string };

const HASH_KEY = 'site-a-hash-key-for-tests';
const DAY = 24 * 3600 * 1000;
const keys: PolicyKeyPair = generatePolicyKeyPair();
const otherKeys: PolicyKeyPair = generatePolicyKeyPair();

let userDir: Awaited<ReturnType<typeof tempDir>>;
let files: Awaited<ReturnType<typeof tempDir>>;

function bundleDoc(rules: unknown[], over: Record<string, unknown> = {}): JsonObject {
  return { id: 'test-policy', version: 1, issuedAt: new Date(Date.now() - DAY).toISOString(), expiresAt: new Date(Date.now() + 30 * DAY).toISOString(), rules, ...over } as JsonObject;
}

function signedText(doc: JsonObject, pair: PolicyKeyPair = keys): string {
  const result = signBundle(doc, pair.privateKeyPem);
  if (!result.ok) throw new Error(result.reason.message);
  return JSON.stringify(result.signed);
}

let serial = 0;
function unique(prefix: string): string {
  serial += 1;
  return `${prefix}-${serial}`;
}

async function bundleFile(text: string): Promise<string> {
  const path = join(files.path, `${unique('bundle')}.json`);
  await writeFile(path, text);
  return path;
}

function policyConfig(id: string, over: Msg = {}): Msg {
  return { id, type: 'tectonic-policy', z: '', source: 'file', file: '', fileType: 'str', url: '', urlType: 'str', bus: '', bundle: '', bundleType: 'str', refresh: '0.1', site: 'site-a', siteType: 'str', publicKeyFile: '', publicKeyFileType: 'str', trustDemoKey: false, maxBytes: '', publishToBus: '', ...over };
}

function gate(policy: string, over: Msg = {}): Msg {
  return { id: 'gate', type: 'policy-gate', z: 'f1', x: 300, y: 100, policy, bus: '', tls: 'unknown', wires: [['pass'], ['rejected']], ...over };
}

function flow(policy: Msg, gateOver: Msg = {}, extra: Msg[] = []): Msg[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    policy,
    gate(policy.id as string, gateOver),
    { id: 'pass', type: 'helper', z: 'f1', x: 500, y: 80, wires: [] },
    { id: 'rejected', type: 'helper', z: 'f1', x: 500, y: 120, wires: [] },
    { id: 'catch', type: 'catch', z: 'f1', x: 100, y: 300, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1', x: 300, y: 300, wires: [] },
    ...extra,
  ];
}

interface Outputs {
  pass: Inbox;
  rejected: Inbox;
  caught: Inbox;
  statuses: () => Status[];
}

function trusted(id: string, publicKeys = keys.publicKeyPem, hashKey = HASH_KEY): Record<string, unknown> {
  return { [id]: { publicKeys, hashKey } };
}

async function deploy(nodes: Msg[], credentials: Record<string, unknown>): Promise<Outputs> {
  await load(nodes, credentials);
  const seen = calls(node('gate'), 'status');
  return { pass: new Inbox(node('pass')), rejected: new Inbox(node('rejected')), caught: new Inbox(node('caught')), statuses: () => seen.map((c) => c.args[0] as Status) };
}

/** A flow whose tectonic-policy reads `text` from a file. */
async function deployBundle(text: string, policyOver: Msg = {}, gateOver: Msg = {}, extra: Msg[] = []): Promise<Outputs> {
  const id = unique('policy');
  return deploy(flow(policyConfig(id, { file: await bundleFile(text), ...policyOver }), gateOver, extra), trusted(id));
}

const shipmentCdm = (over: Msg = {}): Msg => ({ entity: 'shipment', version: '1.1.0', site: 'site-a', id: unique('01JGATE'), time: '2026-11-24T07:00:01Z', source: 'urn:tectonic:site-a:test', validated: 'shipment@1.1.0', ...over });
const labCdm = (): Msg => ({ entity: 'lab-result', version: '1.1.0', site: 'site-a', id: unique('01JLAB'), time: '2026-11-24T08:05:00Z', source: 'urn:tectonic:site-a:test', validated: 'lab-result@1.1.0' });
const shipment = (over: Msg = {}): Msg => ({ shipmentId: 'SHP-1', occurredAt: '2026-11-24T07:00:00Z', status: 'delivered', weightKg: 12.5, siteId: 'site-a', ...over });
const labResult = (): Msg => ({
  resultId: 'R-1',
  patient: { name: 'Ada Lovelace', birthDate: '1815-12-10', ids: [{ system: 'mrn', value: 'MRN-12345' }, { system: 'insurance', value: 'INS-998877' }] },
  analyte: '2345-7',
  result: { value: 5.4, unit: 'mmol/L' },
  reportedBy: 'lab@clinic.example',
  internalNotes: 'called the patient at home',
  collectedAt: '2026-11-24T08:00:00+01:00',
  siteId: 'site-a',
});

/** Sends one message and returns where it came out: exactly one of the two outputs, never a caught error. */
async function send(out: Outputs, payload: unknown, cdm: Msg | undefined, target = 'gate'): Promise<{ output: 'pass' | 'rejected'; msg: Msg }> {
  const id = unique('m');
  const msg: Msg = { _probe: id, payload };
  if (cdm !== undefined) msg.cdm = cdm;
  node(target).receive(msg);
  const mine = (m: Msg): boolean => m._probe === id;
  const first = await Promise.race([out.pass.next(mine).then((m) => ({ output: 'pass' as const, msg: m })), out.rejected.next(mine).then((m) => ({ output: 'rejected' as const, msg: m }))]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const count = out.pass.messages.filter(mine).length + out.rejected.messages.filter(mine).length;
  should(count).equal(1, 'the message left on exactly one output');
  should(out.caught.messages.length).equal(0, `no error: ${JSON.stringify(out.caught.messages[0]?.error)}`);
  return first;
}

/** Sends until the gate stops failing closed with `policy-unavailable` (the bundle is loading), then returns that verdict. */
async function whenLoaded(out: Outputs, payload: () => unknown, cdm: () => Msg | undefined, timeoutMs = 10_000): Promise<{ output: 'pass' | 'rejected'; msg: Msg }> {
  return waitFor(
    async () => {
      const result = await send(out, payload(), cdm());
      const first = (result.msg.reject as { reasons: Reasons } | undefined)?.reasons[0];
      return first?.rule === 'policy-unavailable' ? undefined : result;
    },
    { timeoutMs, intervalMs: 50, message: 'the bundle to load' },
  );
}

async function statusMatching(statuses: () => Status[], predicate: (s: Status) => boolean, message: string, timeoutMs = 5000): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = statuses().reverse().find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`${message} not shown within ${timeoutMs} ms; saw ${JSON.stringify(statuses().slice(-5))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The runtime's userDir, where tectonic-policy keeps its cache (the typed helper in red-helper leaves settings out). */
function useUserDir(path: string): void {
  (helper as unknown as { settings(settings: Record<string, unknown>): unknown }).settings({ userDir: path });
}

function rejectOf(msg: Msg): { stage: string; reasons: Reasons } {
  return msg.reject as { stage: string; reasons: Reasons };
}

/** Each suite: a fresh user folder and bundle folder, one runtime, the flow unloaded after every test. */
function withRuntime(setup?: () => Promise<void>): void {
  before(async () => {
    userDir = await tempDir('tectonic-gate-userdir-');
    files = await tempDir('tectonic-gate-bundles-');
    useUserDir(userDir.path);
    await setup?.();
    await startServer();
  });
  afterEach(() => helper.unload());
  after(async () => {
    await stopServer();
    await userDir.remove();
    await files.remove();
  });
}

describe('policy-gate: one table per rule kind', () => {
  withRuntime();

  interface Case {
    name: string;
    rules: unknown[];
    payload: () => unknown;
    cdm: () => Msg | undefined;
    gate?: Msg;
    expect: 'pass' | 'rejected';
    check(msg: Msg): void;
  }
  const ids = (msg: Msg): Array<Record<string, unknown>> => ((msg.payload as Msg).patient as { ids: Array<Record<string, unknown>> }).ids;
  const notAnywhere = (msg: Msg, ...secrets: string[]): void => {
    const text = JSON.stringify(msg);
    for (const secret of secrets) should(!text.includes(secret)).be.true(`${secret} left the gate: ${text}`);
  };
  const cases: Case[] = [
    {
      name: 'mask redact over an array',
      rules: [{ mask: { paths: ['patient.ids[*].value', 'patient.name'], method: 'redact' } }],
      payload: labResult,
      cdm: labCdm,
      expect: 'pass',
      check: (msg) => {
        should(ids(msg).map((i) => i.value)).eql(['[REDACTED]', '[REDACTED]']);
        should((msg.policy as { masked: string[] }).masked.sort()).eql(['patient.ids[0].value', 'patient.ids[1].value', 'patient.name']);
        should((msg.policy as { policy: string }).policy).equal('test-policy@1');
        notAnywhere(msg, 'MRN-12345', 'INS-998877', 'Ada Lovelace');
      },
    },
    {
      name: 'mask hash (keyed HMAC) over an array: joinable, unreadable',
      rules: [{ mask: { paths: ['patient.ids[*].value'], method: 'hash' } }],
      payload: labResult,
      cdm: labCdm,
      expect: 'pass',
      check: (msg) => {
        const values = ids(msg).map((i) => i.value as string);
        for (const v of values) should(v).match(/^hmac:[A-Za-z0-9_-]{43}$/);
        should(values[0]).not.equal(values[1]);
        notAnywhere(msg, 'MRN-12345', 'INS-998877');
      },
    },
    {
      name: 'mask partial keeps the last characters',
      rules: [{ mask: { paths: ['reportedBy'], method: 'partial', keep: 4 } }],
      payload: labResult,
      cdm: labCdm,
      expect: 'pass',
      check: (msg) => should((msg.payload as Msg).reportedBy).equal(`${'*'.repeat('lab@clinic.example'.length - 4)}mple`),
    },
    {
      name: 'mask drop: a member anywhere, and members of every array element',
      rules: [{ mask: { paths: ['**.internalNotes', 'patient.ids[*].system'], method: 'drop' } }],
      payload: labResult,
      cdm: labCdm,
      expect: 'pass',
      check: (msg) => {
        should('internalNotes' in (msg.payload as Msg)).equal(false);
        should(ids(msg)).eql([{ value: 'MRN-12345' }, { value: 'INS-998877' }]);
        notAnywhere(msg, 'called the patient');
      },
    },
    {
      name: 'deny when the condition holds, with the rule named and the record (masked) kept',
      rules: [{ mask: { paths: ['siteId'], method: 'redact' } }, { deny: { when: 'payload.weightKg > 1000.0', reason: 'implausible weight' } }],
      payload: () => shipment({ weightKg: 1200 }),
      cdm: shipmentCdm,
      expect: 'rejected',
      check: (msg) => {
        should(rejectOf(msg).reasons).eql([{ path: '', rule: 'rules[1].deny', message: 'implausible weight' }]);
        should(msg.payload).eql(shipment({ weightKg: 1200, siteId: '[REDACTED]' }));
      },
    },
    {
      name: 'deny that does not hold passes',
      rules: [{ deny: { when: 'payload.weightKg > 1000.0', reason: 'implausible weight' } }],
      payload: () => shipment(),
      cdm: shipmentCdm,
      expect: 'pass',
      check: (msg) => should(msg.payload).eql(shipment()),
    },
    {
      name: 'require over a missing field rejects with its reason',
      rules: [{ require: { when: 'payload.temperatureC >= -40.0', reason: 'temperature must be plausible' } }],
      payload: () => shipment(),
      cdm: shipmentCdm,
      expect: 'rejected',
      check: (msg) => {
        const [first] = rejectOf(msg).reasons;
        should(first?.rule).equal('rules[0].require');
        should(first?.message ?? '').match(/^temperature must be plausible: the condition could not be evaluated \(.*temperatureC.*\), so the record is rejected$/);
      },
    },
    {
      name: 'maxBytes over the limit',
      rules: [{ maxBytes: 50 }],
      payload: () => shipment(),
      cdm: shipmentCdm,
      expect: 'rejected',
      check: (msg) => {
        const [first] = rejectOf(msg).reasons;
        should(first?.rule).equal('rules[0].maxBytes');
        should(first?.message ?? '').match(/^the record is \d+ bytes; at most 50 are allowed$/);
      },
    },
    {
      name: 'maxBytes within the limit',
      rules: [{ maxBytes: 65536 }],
      payload: () => shipment(),
      cdm: shipmentCdm,
      expect: 'pass',
      check: () => undefined,
    },
    {
      name: 'validation required, and the record was not validated',
      rules: [{ validation: 'required' }],
      payload: () => shipment(),
      cdm: () => {
        const { validated: _v, ...rest } = shipmentCdm();
        return rest;
      },
      expect: 'rejected',
      check: (msg) => should(rejectOf(msg).reasons.map((r) => `${r.path} ${r.rule}`)).eql(['cdm.validated rules[0].validation']),
    },
    {
      name: 'validation required, validated as another version',
      rules: [{ validation: 'required' }],
      payload: () => shipment(),
      cdm: () => shipmentCdm({ validated: 'shipment@1.0.0' }),
      expect: 'rejected',
      check: (msg) => should(rejectOf(msg).reasons[0]?.message ?? '').match(/validated as "shipment@1.0.0", not as shipment@1.1.0/),
    },
    {
      name: 'allow: an entity version outside the allowed range',
      rules: [{ allow: { entities: { shipment: '>=2.0.0' } } }],
      payload: () => shipment(),
      cdm: shipmentCdm,
      expect: 'rejected',
      check: (msg) => should(rejectOf(msg).reasons[0]?.rule).equal('rules[0].allow'),
    },
    {
      name: 'allow: an entity the list does not name',
      rules: [{ allow: { entities: { shipment: '*' } } }],
      payload: labResult,
      cdm: labCdm,
      expect: 'rejected',
      check: (msg) => should(rejectOf(msg).reasons[0]?.rule).equal('rules[0].allow'),
    },
    {
      name: 'allow: inside the range',
      rules: [{ allow: { entities: { shipment: '^1.0.0' } } }],
      payload: () => shipment(),
      cdm: shipmentCdm,
      expect: 'pass',
      check: () => undefined,
    },
    {
      name: 'transport TLS required, the bus TLS unknown',
      rules: [{ transport: { tls: 'required' } }],
      payload: () => shipment(),
      cdm: shipmentCdm,
      expect: 'rejected',
      check: (msg) => should(rejectOf(msg).reasons[0]).eql({ path: 'transport.tls', rule: 'rules[0].transport', message: 'the bus connection must use TLS, and this one is not known to' }),
    },
    {
      name: 'transport TLS required, the gate says the bus uses TLS',
      rules: [{ transport: { tls: 'required' } }],
      payload: () => shipment(),
      cdm: shipmentCdm,
      gate: { tls: 'tls' },
      expect: 'pass',
      check: () => undefined,
    },
    {
      name: 'transport TLS required, the gate says the bus is plain',
      rules: [{ transport: { tls: 'required' } }],
      payload: () => shipment(),
      cdm: shipmentCdm,
      gate: { tls: 'plain' },
      expect: 'rejected',
      check: (msg) => should(rejectOf(msg).reasons[0]?.message).equal('the bus connection must use TLS, and this one does not'),
    },
    {
      name: 'a message without an envelope is rejected, its record masked with every mask',
      rules: [{ mask: { entity: 'lab-result', paths: ['patient.name'], method: 'redact' } }],
      payload: labResult,
      cdm: () => undefined,
      expect: 'rejected',
      check: (msg) => {
        should(rejectOf(msg).reasons[0]?.rule).equal('policy-envelope');
        notAnywhere(msg, 'Ada Lovelace');
      },
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const out = await deployBundle(signedText(bundleDoc(c.rules)), {}, c.gate ?? {});
      const { output, msg } = await whenLoaded(out, c.payload, c.cdm);
      should(output).equal(c.expect, `came out ${output}: ${JSON.stringify(msg.reject)}`);
      if (output === 'rejected') should(rejectOf(msg).stage).equal('policy-gate');
      c.check(msg);
    });
  }

  it('transport TLS required, the records leave on an embedded bus that listens beyond this machine (plain TCP)', async () => {
    const out = await deployBundle(signedText(bundleDoc([{ transport: { tls: 'required' } }])), {}, { bus: 'gate-bus', tls: 'tls' }, [{ id: 'gate-bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '0.0.0.0', port: '0' }]);
    const { output, msg } = await whenLoaded(out, () => shipment(), shipmentCdm);
    should(output).equal('rejected');
    should(rejectOf(msg).reasons[0]?.message).equal('the bus connection must use TLS, and this one does not', 'the bus decides, not the Bus TLS option');
  });

  it('transport TLS required, the records stay on this machine (an embedded bus on loopback): no network crossed, they pass', async () => {
    const out = await deployBundle(signedText(bundleDoc([{ transport: { tls: 'required' } }])), {}, { bus: 'gate-bus', tls: 'plain' }, [{ id: 'gate-bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: '0' }]);
    const { output } = await whenLoaded(out, () => shipment(), shipmentCdm);
    should(output).equal('pass');
  });

  it('the input record is not modified, and the status shows bundle@version with the counts', async () => {
    const out = await deployBundle(signedText(bundleDoc([{ mask: { paths: ['patient.name'], method: 'redact' } }], { version: 4 })));
    const record = labResult();
    const copy = structuredClone(record);
    await whenLoaded(out, () => record, labCdm);
    should(record).eql(copy);
    await send(out, shipment(), undefined);
    await statusMatching(out.statuses, (s) => s.fill === 'green' && /^test-policy@4 · pass 1 · deny \d+$/.test(s.text ?? ''), 'a green test-policy@4 with one deny');
  });
});

describe('policy-gate: tampering and other refusals fail closed', () => {
  withRuntime();

  /** The gate fails closed with `rule`: red status naming it, every message rejected with it first and its record withheld. */
  async function failsClosed(out: Outputs, rule: string, message?: RegExp): Promise<void> {
    await statusMatching(out.statuses, (s) => s.fill === 'red' && (s.text ?? '').startsWith(`${rule}: `), `a red status "${rule}: ..."`);
    const { output, msg } = await send(out, labResult(), labCdm());
    should(output).equal('rejected');
    const { stage, reasons } = rejectOf(msg);
    should(stage).equal('policy-gate');
    should(reasons[0]?.rule).equal(rule);
    if (message) should(reasons[0]?.message ?? '').match(message);
    should(reasons.at(-1)?.rule).equal('payload-withheld');
    should('payload' in msg).equal(false, 'an unmasked record does not leave the gate');
    should(!JSON.stringify(msg).includes('Ada Lovelace')).be.true();
  }

  const good = (): JsonObject => bundleDoc([{ mask: { paths: ['patient.name'], method: 'redact' } }, { maxBytes: 65536 }], { description: 'a policy for the tamper tests' });

  const tampered: Array<{ name: string; text: () => string; rule: string; message?: RegExp; policy?: Msg }> = [
    {
      name: 'one flipped byte',
      text: () => {
        const bytes = Buffer.from(signedText(good()), 'utf8');
        const at = bytes.indexOf('65536');
        bytes[at + 1] = (bytes[at + 1] ?? 0) ^ 0x01; // 65536 -> 64536: still a valid bundle, no longer the signed one
        return bytes.toString('utf8');
      },
      rule: 'policy-bad-signature',
    },
    { name: 'a wrong key', text: () => signedText(good(), otherKeys), rule: 'policy-unknown-key' },
    {
      name: 'an expired bundle',
      text: () => signedText(bundleDoc([{ maxBytes: 65536 }], { issuedAt: new Date(Date.now() - 10 * DAY).toISOString(), expiresAt: new Date(Date.now() - DAY).toISOString() })),
      rule: 'policy-expired',
    },
    { name: 'a bundle larger than the site accepts', text: () => signedText(bundleDoc([{ maxBytes: 65536 }], { description: 'x'.repeat(3000) })), rule: 'policy-too-large', policy: { maxBytes: '2048' } },
    { name: 'an expression that would loop (nested comprehensions)', text: () => signedText(bundleDoc([{ deny: { when: '[1, 2].all(x, [1, 2].all(y, x < y))', reason: 'loops' } }])), rule: 'policy-malformed', message: /comprehensions .* may not be nested/ },
    { name: 'an expression that reaches process state', text: () => signedText(bundleDoc([{ deny: { when: 'process.env.HOME == ""', reason: 'escapes' } }])), rule: 'policy-malformed', message: /Unknown variable: process/ },
    { name: 'an unsigned bundle', text: () => JSON.stringify(good()), rule: 'policy-unsigned' },
    { name: 'an empty file', text: () => '', rule: 'policy-missing' },
  ];

  for (const t of tampered) {
    it(`${t.name} is refused: ${t.rule}`, async () => {
      const out = await deployBundle(t.text(), t.policy ?? {});
      await failsClosed(out, t.rule, t.message);
      const warnings = logged('tectonic-policy', 30);
      should(warnings.some((w) => w.includes(`(${t.rule})`))).be.true(`a warning names ${t.rule}: ${warnings.join('\n')}`);
    });
  }

  it('a rollback (v3 in force, then v2 offered) is refused and fails closed; a newer version recovers', async () => {
    const path = await bundleFile(signedText(bundleDoc([{ maxBytes: 65536 }], { version: 3 })));
    const id = unique('policy');
    const out = await deploy(flow(policyConfig(id, { file: path })), trusted(id));
    const first = await whenLoaded(out, () => shipment(), shipmentCdm);
    should(first.output).equal('pass');
    await writeFile(path, signedText(bundleDoc([], { version: 2 })));
    await failsClosed(out, 'policy-rollback', /test-policy@2 is older than version 3/);
    await writeFile(path, signedText(bundleDoc([{ maxBytes: 65536 }], { version: 4 })));
    await statusMatching(out.statuses, (s) => s.fill === 'green' && (s.text ?? '').startsWith('test-policy@4'), 'test-policy@4 in force');
    should((await send(out, shipment(), shipmentCdm())).output).equal('pass');
  });

  it('a tampered update replaces a good bundle in force: the gate fails closed (the refusal policy)', async () => {
    const path = await bundleFile(signedText(good()));
    const id = unique('policy');
    const out = await deploy(flow(policyConfig(id, { file: path })), trusted(id));
    should((await whenLoaded(out, labResult, labCdm)).output).equal('pass');
    const forged = JSON.parse(signedText(bundleDoc([], { version: 2 }))) as Msg;
    forged.rules = [];
    forged.version = 9;
    await writeFile(path, JSON.stringify(forged));
    await failsClosed(out, 'policy-bad-signature');
  });

  it('no trusted key at all: policy-trust-config', async () => {
    const id = unique('policy');
    const out = await deploy(flow(policyConfig(id, { file: await bundleFile(signedText(good())) })), trusted(id, ''));
    await failsClosed(out, 'policy-trust-config');
  });

  it('a hash rule and no hash key at this site: policy-invalid', async () => {
    const id = unique('policy');
    const saved = process.env.TECTONIC_POLICY_HASH_KEY;
    delete process.env.TECTONIC_POLICY_HASH_KEY;
    try {
      const out = await deploy(flow(policyConfig(id, { file: await bundleFile(signedText(bundleDoc([{ mask: { paths: ['x'], method: 'hash' } }]))) })), trusted(id, keys.publicKeyPem, ''));
      await failsClosed(out, 'policy-invalid', /no hash key/);
    } finally {
      if (saved !== undefined) process.env.TECTONIC_POLICY_HASH_KEY = saved;
    }
  });

  it('a file that does not exist, and nothing cached: policy-unavailable naming the file', async () => {
    const out = await deployBundle('', { file: join(files.path, 'nowhere.json') });
    await failsClosed(out, 'policy-unavailable', /cannot read .*nowhere\.json/);
  });

  it('a configuration problem (site id variable not set): every message rejected, record withheld', async () => {
    delete process.env.TECTONIC_TEST_NO_SITE;
    const out = await deployBundle(signedText(good()), { site: 'TECTONIC_TEST_NO_SITE', siteType: 'env' });
    await failsClosed(out, 'policy-unavailable', /site id: environment variable TECTONIC_TEST_NO_SITE is not set/);
  });

  it('a key given as a file path is trusted', async () => {
    const keyFile = join(files.path, 'trusted.pub');
    await writeFile(keyFile, keys.publicKeyPem);
    const id = unique('policy');
    const out = await deploy(flow(policyConfig(id, { file: await bundleFile(signedText(good())), publicKeyFile: keyFile })), trusted(id, ''));
    should((await whenLoaded(out, labResult, labCdm)).output).equal('pass');
  });

  it('the bundled demo bundle is not trusted without the demo flag', async () => {
    const id = unique('policy');
    const out = await deploy(flow(policyConfig(id, { source: 'bundled', site: 'clinic-3' })), trusted(id, keys.publicKeyPem));
    await failsClosed(out, 'policy-unknown-key');
  });
});

describe('policy over the bus: a hot update from the centre, and a restart without the network', () => {
  let port = 0;
  let centralFile = '';
  withRuntime(async () => {
    port = await freePort();
    centralFile = join(files.path, 'central.signed.json');
  });

  const v1 = (): string => signedText(bundleDoc([{ deny: { when: 'payload.weightKg > 1000.0', reason: 'implausible weight' } }], { version: 1 }));
  const v2 = (): string => signedText(bundleDoc([{ deny: { when: 'payload.weightKg > 10.0', reason: 'too heavy for this route' } }], { version: 2 }));
  const siteNodes = (busUrl: string): Msg[] => [
    { id: 'site-bus', type: 'tectonic-bus', z: '', mode: 'external', url: busUrl, protocolVersion: '4', clientId: 'site-a-policy-test' },
    policyConfig('site-policy', { source: 'bus', bus: 'site-bus', bundle: 'test-policy', refresh: '1' }),
  ];

  it('the centre publishes v2; the site applies it within one refresh interval, without a redeploy', async () => {
    await writeFile(centralFile, v1());
    const central: Msg[] = [
      { id: 'central-bus', type: 'tectonic-bus', z: '', mode: 'embedded', host: '127.0.0.1', port: String(port) },
      policyConfig('central-policy', { file: centralFile, refresh: '0.2', site: 'central', publishToBus: 'central-bus' }),
    ];
    const [siteBus, sitePolicy] = siteNodes(`mqtt://127.0.0.1:${port}`);
    const nodes = [{ id: 'f1', type: 'tab', label: 'test' }, ...central, siteBus as Msg, sitePolicy as Msg, ...flow(sitePolicy as Msg).slice(2)];
    const out = await deploy(nodes, { ...trusted('central-policy'), ...trusted('site-policy') });

    const before = await whenLoaded(out, () => shipment({ weightKg: 12.5 }), shipmentCdm, 15_000);
    should(before.output).equal('pass', `v1 passes 12.5 kg: ${JSON.stringify(before.msg.reject)}`);
    await statusMatching(out.statuses, (s) => s.fill === 'green' && (s.text ?? '').startsWith('test-policy@1'), 'test-policy@1 at the site');

    await writeFile(centralFile, v2());
    const centralPolicy = (helper.getNode('central-policy') as unknown as TectonicPolicyNode).policy as PolicyView;
    should(centralPolicy).be.ok();
    await waitFor(() => centralPolicy.status.state === 'in-force' && centralPolicy.status.version === 2, { timeoutMs: 5000, intervalMs: 10, message: 'the centre to load v2' });
    const published = Date.now();
    const after = await waitFor(
      async () => {
        const result = await send(out, shipment({ weightKg: 12.5 }), shipmentCdm());
        return result.output === 'rejected' ? result : undefined;
      },
      { timeoutMs: 5000, intervalMs: 20, message: 'the site to apply v2' },
    );
    const took = Date.now() - published;
    should(took <= 1000).be.true(`v2 took ${took} ms to apply at the site; the refresh interval is 1 s`);
    should(rejectOf(after.msg).reasons[0]).eql({ path: '', rule: 'rules[0].deny', message: 'too heavy for this route' });
    await statusMatching(out.statuses, (s) => s.fill === 'green' && (s.text ?? '').startsWith('test-policy@2'), 'test-policy@2 at the site');
    const info = logged('tectonic-policy', 40);
    should(info.some((m) => m === 'policy test-policy@2 published to the bus')).be.true(info.join('\n'));
    should(info.some((m) => /^policy test-policy@2 in force from bus tectonic\/policy\/test-policy \(key [\w-]{16}\), replacing test-policy@1$/.test(m))).be.true(info.join('\n'));
    should(existsSync(join(userDir.path, 'tectonic', 'policy-cache', 'site-policy.json'))).be.true('the site cached the bundle in its user folder');
  });

  it('restarted with the bus unreachable, the site enforces the cached bundle; a rollback is still refused', async () => {
    const cacheFile = join(userDir.path, 'tectonic', 'policy-cache', 'site-policy.json');
    const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as { highestVersion: number; bundleId: string };
    should([cached.bundleId, cached.highestVersion]).eql(['test-policy', 2], 'the previous test left v2 in the cache');

    const dead = await freePort();
    const [siteBus, sitePolicy] = siteNodes(`mqtt://127.0.0.1:${dead}`);
    const out = await deploy([{ id: 'f1', type: 'tab', label: 'test' }, siteBus as Msg, sitePolicy as Msg, ...flow(sitePolicy as Msg).slice(2)], trusted('site-policy'));
    const heavy = await whenLoaded(out, () => shipment({ weightKg: 12.5 }), shipmentCdm);
    should(heavy.output).equal('rejected');
    should(rejectOf(heavy.msg).reasons[0]?.message).equal('too heavy for this route', 'v2 from the cache is in force');
    should((await send(out, shipment({ weightKg: 5 }), shipmentCdm())).output).equal('pass');
    await statusMatching(out.statuses, (s) => s.fill === 'green' && (s.text ?? '').startsWith('test-policy@2'), 'test-policy@2 from the cache');
    await helper.unload();

    // The same site, now fed v1 from a file: the cached highest version (2) makes it a rollback.
    const path = await bundleFile(v1());
    const back = await deploy(flow(policyConfig('site-policy', { file: path, bundle: 'test-policy' })), trusted('site-policy'));
    await statusMatching(back.statuses, (s) => s.fill === 'red' && (s.text ?? '').startsWith('policy-rollback: '), 'a red policy-rollback');
    const { output, msg } = await send(back, shipment({ weightKg: 5 }), shipmentCdm());
    should(output).equal('rejected');
    should(rejectOf(msg).reasons[0]?.rule).equal('policy-rollback');
  });
});

describe('example 06 "Policy gate"', () => {
  withRuntime();

  it('the lab result passes with its patient hashed, the other clinic\'s is rejected masked; the status warns of the demo key', async () => {
    const example = JSON.parse(await readFile(join(repoRoot, 'examples', '06 Policy gate.json'), 'utf8')) as Array<Msg & { id: string; type: string }>;
    should(example.every((n) => n.id.startsWith('ex06-'))).be.true('ids carry the ex06- prefix');
    should(!example.some((n) => n.type === 'tab')).be.true('no tab node');
    const injects = example.filter((n) => n.type === 'inject');
    const flowNodes = example.filter((n) => n.type !== 'inject' && n.type !== 'comment').map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper', z: n.z, wires: [] } : n));
    await load([{ id: 'example-policy', type: 'tab', label: '06' }, ...flowNodes]);
    const statuses = calls(node('ex06-gate'), 'status');
    const pass = new Inbox(node('ex06-pass'));
    const rejected = new Inbox(node('ex06-rejected'));
    const press = (id: string): void => {
      const inject = injects.find((n) => n.id === id) as unknown as { props: Array<{ p: string; v: string }> };
      const msg: Msg = { _probe: id };
      for (const prop of inject.props) msg[prop.p] = JSON.parse(prop.v) as unknown;
      node('ex06-validate').receive(msg);
    };
    // The shipped demo bundle runs until 2031-11-24: this test keeps working after it, by expecting the expiry.
    if (Date.now() >= Date.parse('2031-11-24T00:00:00Z')) {
      press('ex06-lab');
      const late = await rejected.next((m) => m._probe === 'ex06-lab');
      should(rejectOf(late).reasons[0]?.rule).equal('policy-expired');
      return;
    }
    const good = await waitFor(async () => {
      press('ex06-lab');
      return pass.next((m) => m._probe === 'ex06-lab', 300).catch(() => undefined);
    }, { message: 'the lab result to pass' });
    const patient = (good.payload as { patient: { name: string; birthDate: string; ids: Array<{ value: string }> } }).patient;
    should(patient.name).match(/^hmac:/);
    should(patient.birthDate).match(/^hmac:/);
    for (const id of patient.ids) should(id.value).match(/^hmac:/);
    should((good.policy as { policy: string }).policy).equal('central-default@7');
    should(!JSON.stringify(good).includes('Ada Lovelace')).be.true();
    press('ex06-other-clinic');
    const other = await rejected.next((m) => m._probe === 'ex06-other-clinic');
    should(rejectOf(other).reasons.map((r) => r.message)).eql(['a lab result must come from the clinic that produced it']);
    should(!JSON.stringify(other).includes('Ada Lovelace')).be.true('the rejected record is masked too');
    await statusMatching(() => statuses.map((c) => c.args[0] as Status), (s) => s.fill === 'yellow' && /^central-default@7 \(demo key\) · pass 1 · deny \d+$/.test(s.text ?? ''), 'a yellow demo key status');
    should(logged('tectonic-policy', 30).some((w) => /DEMO policy key/.test(w))).be.true();
  });
});

describe('bus-publish honours the bundle\'s rate and retry rules', () => {
  withRuntime();

  it('a rate rule paces publishing: the messages wait in order in the outbox', async () => {
    const text = signedText(bundleDoc([{ rate: { entity: 'shipment', perSecond: 5, burst: 1 } }, { retry: { maxAttempts: 3, backoffMs: 100 } }]));
    const id = unique('policy');
    const nodes: Msg[] = [
      { id: 'f1', type: 'tab', label: 'rate' },
      policyConfig(id, { file: await bundleFile(text) }),
      { id: 'rate-bus', type: 'tectonic-bus', mode: 'embedded', host: '127.0.0.1', port: '0', persistence: 'memory', session: 'clean' },
      { id: 'publish', type: 'bus-publish', z: 'f1', x: 100, y: 100, bus: 'rate-bus', policy: id, qos: '1', wires: [['published'], ['refused']] },
      { id: 'published', type: 'helper', z: 'f1', x: 300, y: 100, wires: [] },
      { id: 'refused', type: 'helper', z: 'f1', x: 300, y: 140, wires: [] },
    ];
    await load(nodes, trusted(id));
    const published = new Inbox(node('published'));
    // Wait for the bundle and the bus: a first message goes out on its own token.
    const first = shipmentCdm();
    node('publish').receive({ payload: shipment(), cdm: first });
    await published.next((m) => (m.cdm as Msg).id === first.id, 10_000);
    const sent = Array.from({ length: 6 }, () => shipmentCdm());
    const started = Date.now();
    for (const cdm of sent) node('publish').receive({ payload: shipment(), cdm });
    const out = await published.count(7, 10_000);
    const elapsed = Date.now() - started;
    should(out.slice(1).map((m) => (m.cdm as Msg).id)).eql(sent.map((c) => c.id), 'paced, in order');
    // 6 messages at 5 a second with a burst of 1 need at least 5 refills of 200 ms.
    should(elapsed >= 900).be.true(`six messages at 5/s took only ${elapsed} ms`);
  });
});
