import { performance } from 'node:perf_hooks';
import jsonata from 'jsonata';
import { compileMappingSpec } from '../lib/mapping/index';
import { designExampleSpec } from '../test/fixtures/mapping/design-example';
import { fraSpec } from '../test/fixtures/logistics/index';
import { localRecord } from './pipeline/records';

/**
 * Records per second of a compiled mapping spec (the DESIGN.md example:
 * date with format and zone, lookup, number + unit + round, constant,
 * optional) against the same mapping written as ONE JSONata expression, as a
 * site would write it in a core `change` node, evaluated in-process. Bounded:
 * at most ITERATIONS records or TIME_CAP_MS per case, whichever comes first.
 *
 * The JSONata version is not equivalent in one respect: JSONata's date
 * pictures know fixed offsets, not IANA zones, so it appends "+01:00" and is
 * only right in winter. The compiled spec handles daylight saving and gaps.
 */
const ITERATIONS = 200_000;
const TIME_CAP_MS = 2_000;

const spec = designExampleSpec();

const expression = `{
  "shipmentId": shp_no,
  "occurredAt": $fromMillis($toMillis(dt & " +01:00", "[D01]/[M01]/[Y0001] [H01]:[m01] [Z]")),
  "status": $lookup({ "DLV": "delivered", "TRN": "in_transit" }, stat),
  "weightKg": $round($number(wt_lb) * 0.45359237, 2),
  "siteId": "site-a",
  "carrier": carrier ? { "name": carrier }
}`;

const record = { shp_no: 'SHP-1001', dt: '24/11/2026 08:00', stat: 'DLV', wt_lb: '12.5', carrier: 'DHL' };

async function measure(label: string, once: () => unknown): Promise<number> {
  let n = 0;
  const start = performance.now();
  const deadline = start + TIME_CAP_MS;
  // Check the clock every 500 records so timing does not dominate.
  while (n < ITERATIONS && (n % 500 !== 0 || performance.now() < deadline)) {
    const result = once();
    if (result instanceof Promise) await result;
    n++;
  }
  const seconds = (performance.now() - start) / 1000;
  const rate = n / seconds;
  console.log(`${label.padEnd(34)} ${Math.round(rate).toLocaleString('en-US').padStart(11)} records/s  (${n} in ${seconds.toFixed(2)} s)`);
  return rate;
}

async function main(): Promise<number> {
  const compiled = compileMappingSpec(spec);
  if (!compiled.ok) throw new Error(`spec does not compile: ${JSON.stringify(compiled.reasons)}`);
  const mapping = compiled.value;
  const change = jsonata(expression);

  // Both must produce the same canonical record, or the comparison means nothing.
  const mine = await mapping.map(record);
  const theirs = (await change.evaluate(record)) as unknown;
  if (!mine.ok || JSON.stringify(mine.value) !== JSON.stringify(theirs)) {
    throw new Error(`the two mappings disagree: ${JSON.stringify(mine)} vs ${JSON.stringify(theirs)}`);
  }
  console.log(`canonical record: ${JSON.stringify(mine.value)}`);

  const compiledRate = await measure('compiled mapping spec (sync)', () => mapping.map(record));
  const jsonataRate = await measure('one JSONata expression (async)', () => change.evaluate(record));
  console.log(`ratio: the compiled spec maps ${(compiledRate / jsonataRate).toFixed(1)}x the records per second of the JSONata expression`);

  // The pipeline bench's mapping (bench/pipeline/flows.ts): the FRA warehouse
  // spec on its generated records, 1% of them invalid, cycling through 4,096
  // so dates, weights and carriers vary as they do on the bus.
  const fra = compileMappingSpec(fraSpec);
  if (!fra.ok || !fra.value.sync) throw new Error(`the FRA spec does not compile to a sync mapping: ${JSON.stringify(fra)}`);
  const fraMapping = fra.value;
  const fraRecords = Array.from({ length: 4096 }, (_, i) => localRecord(1, i));
  let next = 0;
  await measure('FRA spec, pipeline records (sync)', () => fraMapping.map(fraRecords[next++ & 4095]));

  // The escape hatch against the declarative transform that covers its most
  // common use (issue 19): the same spec with an e-mail masked to
  // "***@domain", once as a JSONata expression rule (compiled once, but
  // jsonata 2.x evaluates asynchronously, so the whole record waits for a
  // promise), once as `mask: { keepAfter: "@" }` (synchronous).
  const withEmail = { ...record, email: 'jane.doe@example.com' };
  const viaExpression = compileMappingSpec({ ...spec, rules: [...spec.rules, { to: 'contact', expression: '"***@" & $substringAfter(email, "@")' }] });
  const viaMask = compileMappingSpec({ ...spec, rules: [...spec.rules, { to: 'contact', from: 'email', transforms: [{ mask: { keepAfter: '@' } }] }] });
  if (!viaExpression.ok || !viaMask.ok) throw new Error(`the e-mail specs do not compile: ${JSON.stringify([viaExpression, viaMask])}`);
  const a = await viaExpression.value.map(withEmail);
  const b = await viaMask.value.map(withEmail);
  if (!a.ok || !b.ok || JSON.stringify(a.value) !== JSON.stringify(b.value)) throw new Error(`the e-mail masks disagree: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  const expressionRate = await measure('spec + e-mail mask, JSONata rule', () => viaExpression.value.map(withEmail));
  const maskRate = await measure('spec + e-mail mask, mask transform', () => viaMask.value.map(withEmail));
  console.log(
    `e-mail mask: ${(1e6 / expressionRate).toFixed(2)} µs a record with the JSONata rule, ${(1e6 / maskRate).toFixed(2)} µs with the mask transform (${(maskRate / expressionRate).toFixed(1)}x the records per second)`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
