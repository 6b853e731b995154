// cdm-map inside Node-RED against the same mapping as a JSONata expression in
// a core `change` node, in one run, alternating the two so the machine's noise
// falls on both. Bounded: a fixed number of records per round, a time cap.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type HelperNode, helper, load, packNodes, startServer, stopServer } from '../test/support/red-helper';
import { repoRoot } from '../test/support/node-red-process';
import { designExampleRules } from '../test/fixtures/mapping/design-example';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const changeNode = require(join(repoRoot, 'node_modules/@node-red/nodes/core/function/15-change.js')) as unknown;

const RECORDS = Number(process.env.BENCH_RECORDS ?? 20_000);
const ROUNDS = 3;
const ROUND_CAP_MS = 30_000;

const rules = designExampleRules;
// The same mapping as a Node-RED user would write it by hand. JSONata has no
// time-zone-aware parser for this format, so the date is rebuilt by pieces
// with a fixed +01:00 offset: already less correct than the spec above. A
// change node evaluates against the whole msg, hence `payload.{...}`.
const expression = `payload.{
  "shipmentId": shp_no,
  "occurredAt": $fromMillis($toMillis($substring(dt,6,4) & "-" & $substring(dt,3,2) & "-" & $substring(dt,0,2) & "T" & $substring(dt,11,5) & ":00+01:00")),
  "status": $lookup({"DLV":"delivered","TRN":"in_transit"}, stat),
  "weightKg": $round($number(wt_lb) * 0.45359237, 2),
  "siteId": "site-a",
  "carrier": carrier ? {"name": carrier}
}`;

function record(i: number): Record<string, unknown> {
  return { shp_no: `A-${i}`, dt: `${String((i % 28) + 1).padStart(2, '0')}/11/2026 08:30`, stat: i % 2 ? 'DLV' : 'TRN', wt_lb: String(10 + (i % 50)), carrier: 'Rhenus' };
}

async function timeRound(entry: HelperNode, out: HelperNode, count: number): Promise<number> {
  let received = 0;
  const start = performance.now();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`round did not finish within ${ROUND_CAP_MS} ms (${received}/${count})`)), ROUND_CAP_MS);
    out.on('input', () => {
      received += 1;
      if (received === count) {
        clearTimeout(timer);
        resolve();
      }
    });
    entry.on('call:error', (call: { args: unknown[] }) => reject(new Error(`${entry.id} failed: ${String(call.args[0])}`)));
    for (let i = 0; i < count; i++) entry.receive({ payload: record(i) });
  });
  out.removeAllListeners('input');
  return count / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  await startServer();
  await load(
    [
      { id: 'f1', type: 'tab' },
      { id: 'map', type: 'cdm-map', z: 'f1', x: 1, y: 1, entity: 'shipment', version: '1.0.0', site: 'site-a', siteType: 'str', rules, wires: [['mapped'], []] },
      { id: 'mapped', type: 'helper', z: 'f1', x: 2, y: 1, wires: [] },
      { id: 'change', type: 'change', z: 'f1', x: 1, y: 2, rules: [{ t: 'set', p: 'payload', pt: 'msg', to: expression, tot: 'jsonata' }], wires: [['changed']] },
      { id: 'changed', type: 'helper', z: 'f1', x: 2, y: 2, wires: [] },
    ],
    {},
    [...packNodes, changeNode],
  );
  const node = (id: string): HelperNode => helper.getNode(id) as HelperNode;
  const figures = { map: [] as number[], change: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    figures.map.push(await timeRound(node('map'), node('mapped'), RECORDS));
    figures.change.push(await timeRound(node('change'), node('changed'), RECORDS));
  }
  const best = (xs: number[]): number => Math.max(...xs);
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(9);
  console.log(`cdm-map (compiled spec)          ${fmt(best(figures.map))} records/s  (best of ${ROUNDS} rounds of ${RECORDS})`);
  console.log(`change node (JSONata expression) ${fmt(best(figures.change))} records/s`);
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`  round ${round + 1}: cdm-map ${fmt(figures.map[round] ?? 0)}  change ${fmt(figures.change[round] ?? 0)}  ratio ${((figures.map[round] ?? 0) / (figures.change[round] ?? 1)).toFixed(1)}x`);
  }
  console.log(`ratio cdm-map / change: ${(best(figures.map) / best(figures.change)).toFixed(1)}x`);
  await helper.unload();
  await stopServer();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
