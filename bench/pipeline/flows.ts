// The three Node-RED flows the pipeline benchmark compares (issue 6), and the
// signed policy bundle of the tectonic one. Every flow reads from and writes
// to the same broker, at QoS 1 both ways, so the variants differ only in what
// happens between reading the record from the broker and publishing the
// result (the core flows enter through mqtt in, the tectonic one through
// bus-subscribe, the pack's entry with flow control).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonObject } from '../../lib/catalog/types';
import { generatePolicyKeyPair, signBundle } from '../../lib/policy/signature';
import { fraSpec } from '../../test/fixtures/logistics';
import type { FlowNode } from '../../test/support/node-red-process';
import { CARRIER_KEEP, localRecord } from './records';

export const TOPICS = {
  raw: 'bench/in/raw',
  passthroughIn: 'bench/in/passthrough',
  passthroughOut: 'bench/out/passthrough',
  coreIn: 'bench/in/core',
  coreOut: 'bench/out/core',
  tectonicIn: 'bench/in/tectonic',
  /** canonicalTopic() of a shipment 1.x from site-fra. */
  tectonicOut: 'cdm/shipment/v1/site-fra',
  /** The same pipeline with the fleet's parts on (fleetFlow), as another site so the two never mix. */
  fleetIn: 'bench/in/fleet',
  fleetOut: 'cdm/shipment/v1/site-fra2',
} as const;

export const SITE = 'site-fra';
export const PUBLISH_NODE = 'bench-publish';
const TAB = 'bench-tab';
const BROKER = 'bench-mqtt-broker';

function mqttBroker(port: number, clientId: string): FlowNode {
  return {
    id: BROKER, type: 'mqtt-broker', name: 'bench broker', broker: '127.0.0.1', port: String(port), clientid: clientId, autoConnect: true, usetls: false,
    protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true,
    birthTopic: '', birthQos: '0', birthPayload: '', birthMsg: {}, closeTopic: '', closeQos: '0', closePayload: '', closeMsg: {}, willTopic: '', willQos: '0', willPayload: '', willMsg: {}, userProps: '', sessionExpiry: '',
  };
}

function mqttIn(id: string, topic: string, datatype: 'utf8' | 'json', wires: string[][]): FlowNode {
  return { id, type: 'mqtt in', z: TAB, name: '', topic, qos: '1', datatype, broker: BROKER, nl: false, rap: true, rh: 0, inputs: 0, x: 120, y: 80, wires };
}

function mqttOut(id: string, topic: string): FlowNode {
  return { id, type: 'mqtt out', z: TAB, name: '', topic, qos: '1', retain: 'false', respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker: BROKER, x: 700, y: 80, wires: [] };
}

const tab: FlowNode = { id: TAB, type: 'tab', label: 'pipeline bench', disabled: false, info: '' };

export function passthroughFlow(brokerPort: number): FlowNode[] {
  return [tab, mqttBroker(brokerPort, 'bench-passthrough'), mqttIn('pt-in', TOPICS.passthroughIn, 'utf8', [['pt-out']]), mqttOut('pt-out', TOPICS.passthroughOut)];
}

/**
 * The FRA mapping spec as a Node-RED user writes it by hand in JSONata. JSONata
 * parses only ISO dates with an explicit offset, so the Berlin offset is
 * worked out from the EU rule (summer time from the last Sunday of March to
 * the last Sunday of October; the last Sunday of month m is
 * 31 - ((5y div 4 + k) mod 7), k = 4 for March, 1 for October). The mask is
 * the policy's `partial` with keep 2: all but the last 2 characters become
 * "*". A change node evaluates against the whole msg, hence `payload`.
 */
export const CORE_MAPPING = `(
  $p := payload;
  $dt := $p.Zeitpunkt;
  $y := $number($substring($dt, 6, 4));
  $m := $number($substring($dt, 3, 2));
  $d := $number($substring($dt, 0, 2));
  $h := $number($substring($dt, 11, 2));
  $march := 31 - (($floor(5 * $y / 4) + 4) % 7);
  $october := 31 - (($floor(5 * $y / 4) + 1) % 7);
  $summer := ($m > 3 and $m < 10) or ($m = 3 and ($d > $march or ($d = $march and $h >= 3))) or ($m = 10 and ($d < $october or ($d = $october and $h < 3)));
  $iso := $substring($dt, 6, 4) & "-" & $substring($dt, 3, 2) & "-" & $substring($dt, 0, 2) & "T" & $substring($dt, 11, 5) & ":00" & ($summer ? "+02:00" : "+01:00");
  $mask := function($s) { $length($s) <= ${CARRIER_KEEP} ? $pad("", $length($s), "*") : $pad("", $length($s) - ${CARRIER_KEEP}, "*") & $substring($s, -${CARRIER_KEEP}) };
  {
    "shipmentId": $trim($p.Sendung),
    "occurredAt": $fromMillis($toMillis($iso)),
    "status": $lookup({"ZU": "delivered", "UW": "in_transit", "AN": "created", "RT": "returned"}, $p.Status),
    "weightKg": $round($number($replace($replace($p.Gewicht, ".", ""), ",", ".")), 2),
    "siteId": $lookup({"FRA1": "hub-fra"}, $p.Standort),
    "carrier": $exists($p.Spediteur) ? { "name": $mask($uppercase($trim($p.Spediteur))) }
  }
)`;

/**
 * cdm/shipment/1.1.0.schema.json inlined for the json node. The node's ajv
 * (strict, no ajv-formats) refuses to compile `format: date-time`, so the
 * timestamp is a pattern: the best a core-node user can do without code.
 */
export const CORE_SCHEMA = {
  type: 'object',
  properties: {
    shipmentId: { type: 'string', minLength: 1, maxLength: 64 },
    occurredAt: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$' },
    status: { type: 'string', enum: ['created', 'in_transit', 'delivered', 'returned', 'lost', 'cancelled'] },
    weightKg: { type: 'number', minimum: 0 },
    siteId: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    carrier: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, maxLength: 100 }, scac: { type: 'string', pattern: '^[A-Z]{2,4}$' } },
      required: ['name'],
      additionalProperties: false,
    },
    trackingUrl: { type: 'string' },
  },
  required: ['shipmentId', 'occurredAt', 'status', 'weightKg', 'siteId'],
  additionalProperties: false,
};

/** mqtt in -> json -> change (JSONata mapping and mask, schema into msg.schema) -> json (validates, then stringifies) -> mqtt out. */
export function coreFlow(brokerPort: number): FlowNode[] {
  return [
    tab,
    mqttBroker(brokerPort, 'bench-core'),
    mqttIn('core-in', TOPICS.coreIn, 'utf8', [['core-parse']]),
    { id: 'core-parse', type: 'json', z: TAB, name: 'parse', property: 'payload', action: 'obj', pretty: false, x: 250, y: 80, wires: [['core-map']] },
    {
      id: 'core-map', type: 'change', z: TAB, name: 'map and mask (JSONata)', x: 400, y: 80, wires: [['core-validate']],
      rules: [
        { t: 'set', p: 'payload', pt: 'msg', to: CORE_MAPPING, tot: 'jsonata' },
        { t: 'set', p: 'schema', pt: 'msg', to: JSON.stringify(CORE_SCHEMA), tot: 'json' },
      ],
      action: '', property: '', from: '', to: '', reg: false,
    },
    { id: 'core-validate', type: 'json', z: TAB, name: 'validate and stringify', property: 'payload', action: 'str', pretty: false, x: 560, y: 80, wires: [['core-out']] },
    mqttOut('core-out', TOPICS.coreOut),
  ];
}

export interface TectonicFiles {
  bundleFile: string;
  publicKeyFile: string;
}

/** The tectonic flow's policy rules (also measured alone by bench/policy.bench.ts). */
export const PIPELINE_POLICY_RULES: readonly object[] = [
  { allow: { entities: { shipment: '>=1.0.0 <2.0.0' } } },
  { maxBytes: 65536 },
  { validation: 'required' },
  { mask: { entity: 'shipment', paths: ['carrier.name'], method: 'partial', keep: CARRIER_KEEP } },
  { require: { entity: 'shipment', when: 'payload.weightKg >= 0.0', reason: 'weight must not be negative' } },
];

/**
 * The site's policy for shipments, signed with a key made for this run:
 * shipments 1.x allowed, validation required, the carrier's name partly
 * masked, no negative weight. No rate rule: a rate limit would measure the
 * policy, not the pipeline.
 */
export async function writePolicyFiles(dir: string): Promise<TectonicFiles> {
  const keys = generatePolicyKeyPair();
  const day = 24 * 3600 * 1000;
  const doc = {
    id: 'bench-policy',
    version: 1,
    issuedAt: new Date(Date.now() - day).toISOString(),
    expiresAt: new Date(Date.now() + 30 * day).toISOString(),
    description: 'pipeline benchmark',
    rules: PIPELINE_POLICY_RULES,
  } as unknown as JsonObject;
  const signed = signBundle(doc, keys.privateKeyPem);
  if (!signed.ok) throw new Error(`signing the bench policy: ${signed.reason.message}`);
  const bundleFile = join(dir, 'bench-policy.signed.json');
  const publicKeyFile = join(dir, 'bench-policy.pub');
  await writeFile(bundleFile, JSON.stringify(signed.signed));
  await writeFile(publicKeyFile, keys.publicKeyPem);
  return { bundleFile, publicKeyFile };
}

/**
 * bus-subscribe (local records, flow control) -> cdm-map -> cdm-validate ->
 * policy-gate -> bus-publish (durable outbox on, QoS 1). Rejects leave on
 * each node's second output, unwired. The entry is the pack's own: the core
 * mqtt in node applies no back-pressure, so under overload Node-RED's queue
 * grows without bound (issue 6); bus-subscribe stops reading the bus while
 * `maxInFlight` records are in the flow.
 */
export function tectonicFlow(brokerPort: number, files: TectonicFiles, outboxMaxCount: number, maxInFlight: number): FlowNode[] {
  return [
    tab,
    { id: 'bench-catalog', type: 'cdm-catalog', name: 'bundled catalog', source: 'bundled', folder: '', folderType: 'str', url: '', urlType: 'str', bus: '', refresh: '', publishToBus: '', policy: 'STRICT' },
    {
      id: 'bench-policy', type: 'tectonic-policy', name: 'bench policy', source: 'file', file: files.bundleFile, fileType: 'str', url: '', urlType: 'str', bus: '', bundle: '', bundleType: 'str',
      refresh: '', site: SITE, siteType: 'str', publicKeyFile: files.publicKeyFile, publicKeyFileType: 'str', trustDemoKey: false, maxBytes: '', publishToBus: '',
    },
    {
      id: 'bench-bus', type: 'tectonic-bus', name: 'site bus', mode: 'external', host: '', port: '', url: `mqtt://127.0.0.1:${brokerPort}`,
      protocolVersion: '4', clientId: 'bench-tectonic-bus', keepalive: '30', session: 'persistent', persistence: 'disk', tls: '',
    },
    {
      id: 'tec-in', type: 'bus-subscribe', z: TAB, name: 'local records', bus: 'bench-bus', kind: 'records', topic: TOPICS.tectonicIn, entity: '', versions: '', site: '', siteType: 'str',
      group: '', qos: '1', maxBytes: '1048576', dedupWindow: '', maxInFlight: String(maxInFlight), x: 120, y: 80, wires: [['tec-map']],
    },
    {
      id: 'tec-map', type: 'cdm-map', z: TAB, name: 'FRA warehouse to shipment', catalog: 'bench-catalog', entity: fraSpec.entity, version: fraSpec.version,
      site: SITE, siteType: 'str', source: 'urn:tectonic:site-fra:wms', rules: fraSpec.rules, x: 250, y: 80, wires: [['tec-validate'], []],
    },
    {
      id: 'tec-validate', type: 'cdm-validate', z: TAB, name: '', catalog: 'bench-catalog', entity: '', entityType: 'str', version: '', versionType: 'str', castTo: '', castToType: 'str',
      x: 400, y: 80, wires: [['tec-gate'], []],
    },
    { id: 'tec-gate', type: 'policy-gate', z: TAB, name: '', policy: 'bench-policy', bus: '', tls: 'unknown', x: 550, y: 80, wires: [[PUBLISH_NODE], []] },
    {
      id: PUBLISH_NODE, type: 'bus-publish', z: TAB, name: 'publish', bus: 'bench-bus', qos: '1', wireMode: 'structured', mode: 'canonical', site: '', siteType: 'str',
      outboxMaxCount: String(outboxMaxCount), outboxMaxBytes: '67108864', whenFull: 'reject', policy: '', outputs: 2, x: 700, y: 80, wires: [[], []],
    },
  ];
}

export const FLEET_SITE = 'site-fra2';
/** Seconds between heartbeats in the fleet variant: 30 times the default rate, so its cost shows if it has one. */
export const FLEET_HEARTBEAT_SECONDS = 1;
/** A synthetic transaction every this many beats. */
export const FLEET_PROBE_EVERY = 5;
/**
 * The share of records cdm-map starts a (sampled) trace for in the fleet
 * variant: a site traces a sample of its records, as tracing is run in
 * production, not every one (BENCH_FLEET_TRACE_SAMPLING=1 traces every record,
 * to see what a traced record costs).
 */
export const FLEET_TRACE_SAMPLING = Number(process.env.BENCH_FLEET_TRACE_SAMPLING ?? '0.1');

/**
 * tectonicFlow with what issue 16 adds to a site deployed (the fleet
 * overhead): a heartbeat every second with a synthetic transaction every 5
 * beats into cdm-map, cdm-map starting a sampled trace for every record, and
 * (from the bench) GET /tectonic/metrics every second. Its own site and input
 * topic, so its records and probes never reach the plain variant's checker.
 * The probe is a valid record of a phase the bench never runs: the checker
 * takes it for a straggler and leaves it out.
 */
export function fleetFlow(brokerPort: number, files: TectonicFiles, outboxMaxCount: number, maxInFlight: number, parts: { trace: boolean; probes: boolean; heartbeat?: boolean } = { trace: true, probes: true }): FlowNode[] {
  const flow = tectonicFlow(brokerPort, files, outboxMaxCount, maxInFlight).map((n) => ({ ...n }));
  for (const n of flow) {
    if (n.id === 'bench-bus') Object.assign(n, { clientId: 'bench-fleet-bus', siteId: FLEET_SITE });
    if (n.id === 'tec-in') n.topic = TOPICS.fleetIn;
    if (n.id === 'tec-map') Object.assign(n, { site: FLEET_SITE, source: 'urn:tectonic:site-fra2:wms', traceSampling: parts.trace ? String(FLEET_TRACE_SAMPLING) : '' });
  }
  if (parts.heartbeat === false) return flow;
  flow.push({
    id: 'fleet-heartbeat', type: 'heartbeat', z: TAB, name: 'heartbeat', bus: 'bench-bus', interval: String(FLEET_HEARTBEAT_SECONDS), templateName: 'bench-site', templateVersion: '1.0.0',
    probeEvery: parts.probes ? String(FLEET_PROBE_EVERY) : '', probeDeadline: '10', probeRecord: JSON.stringify(localRecord(999_999, 1)), x: 120, y: 160, wires: [['tec-map'], []],
  });
  return flow;
}
