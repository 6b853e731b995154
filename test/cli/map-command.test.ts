import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { repoRoot } from '../support/node-red-process';
import { tectonic } from '../support/tectonic-cli';
import { designExampleSpec } from '../fixtures/mapping/design-example';

describe('cli/map-command', function () {
  // Each test runs the real command (a tsx start of a second or more); on a loaded machine, several seconds.
  this.timeout(60_000);
  const spec = designExampleSpec('1.1.0');
  const good = { shp_no: 'S-1', dt: '24/11/2026 08:00', stat: 'DLV', wt_lb: '10', carrier: 'DHL' };
  const good2 = { shp_no: 'S-2', dt: '01/07/2026 12:00', stat: 'TRN', wt_lb: 2.2 };
  const bad = { shp_no: 'S-3', dt: '31/02/2026 10:00', stat: 'XYZ', wt_lb: '1,5' };
  const canonical1 = '{"shipmentId":"S-1","occurredAt":"2026-11-24T07:00:00.000Z","status":"delivered","weightKg":4.54,"siteId":"site-a","carrier":{"name":"DHL"}}';
  const canonical2 = '{"shipmentId":"S-2","occurredAt":"2026-07-01T10:00:00.000Z","status":"in_transit","weightKg":1,"siteId":"site-a"}';

  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tectonic-map-'));
    writeFileSync(join(tmp, 'spec.json'), JSON.stringify(spec));
    writeFileSync(join(tmp, 'bad-spec.json'), JSON.stringify({ ...spec, rules: [{ to: '__proto__.x', from: 'a' }, { to: 'w', from: 'w', transforms: [{ unit: { from: 'kg', to: 'l' } }] }] }));
    writeFileSync(join(tmp, 'broken.json'), '{ "entity": ');
    writeFileSync(join(tmp, 'good.json'), JSON.stringify([good, good2], null, 2));
    writeFileSync(join(tmp, 'mixed.jsonl'), `${JSON.stringify(good)}\n\n${JSON.stringify(bad)}\n${JSON.stringify(good2)}\n`);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('tectonic map', () => {
    it('a JSON array, all mapped: one canonical record per line, exit 0', async () => {
      const r = await tectonic(['map', '--spec', join(tmp, 'spec.json'), join(tmp, 'good.json')]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${canonical1}\n${canonical2}\n`);
      assert.equal(r.stderr, '2 of 2 record(s) mapped to shipment@1.1.0\n');
    });

    it('JSON Lines with a refused record: its reasons in its place, exit 1', async () => {
      const r = await tectonic(['map', '--spec', join(tmp, 'spec.json'), join(tmp, 'mixed.jsonl')]);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 3);
      assert.equal(lines[0], canonical1);
      assert.equal(
        lines[1],
        '#2 refused: occurredAt  [date]  from "dt": "31/02/2026 10:00" is not a real date or time (you specified 31 (of type number) as a day, which is invalid) | status  [lookup]  from "stat": unknown code "XYZ" | weightKg  [number]  from "wt_lb": "1,5" is not a number (digit grouping needs a "thousands" option; the decimal mark is ".")',
      );
      assert.equal(lines[2], canonical2);
    });

    it('--json from standard input: one JSON result per line', async () => {
      const r = await tectonic(['map', '--spec', join(tmp, 'spec.json'), '--json'], `${JSON.stringify(bad)}\n${JSON.stringify(good)}\n`);
      assert.equal(r.code, 1, r.stderr);
      const results = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { record: number; ok: boolean; value?: unknown; reasons?: { path: string; rule: string }[] });
      assert.deepEqual(results.map((x) => [x.record, x.ok]), [[1, false], [2, true]]);
      assert.deepEqual(results[0]?.reasons?.map((x) => [x.path, x.rule]), [['occurredAt', 'date'], ['status', 'lookup'], ['weightKg', 'number']]);
      assert.equal(JSON.stringify(results[1]?.value), canonical1);
      assert.equal(r.stderr, '');
    });

    it('a spec that does not compile: its reasons, exit 2', async () => {
      const r = await tectonic(['map', '--spec', join(tmp, 'bad-spec.json'), join(tmp, 'good.json')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /does not compile/);
      assert.match(r.stderr, /rules\[0\]\.to\s+\[path\]\s+"__proto__\.x" uses "__proto__"/);
      assert.match(r.stderr, /rules\[1\]\.transforms\[0\]\.unit\s+\[unit\]\s+cannot convert mass \(kg\) to volume \(l\)/);
      assert.equal(r.stdout, '');
    });

    it('a spec that is not JSON: exit 2', async () => {
      const r = await tectonic(['map', '--spec', join(tmp, 'broken.json'), join(tmp, 'good.json')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /broken\.json/);
    });

    it('an unreadable records file: exit 2', async () => {
      const r = await tectonic(['map', '--spec', join(tmp, 'spec.json'), join(tmp, 'nope.json')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /cannot read .*nope\.json: no such file\n/);
      assert.doesNotMatch(r.stderr, /ENOENT/);
    });

    it('records that are not JSON: exit 2', async () => {
      const r = await tectonic(['map', '--spec', join(tmp, 'spec.json')], '{"a":1}\nnot json\n');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /standard input:2/);
    });

    it('no --spec: usage, exit 2', async () => {
      const r = await tectonic(['map', join(tmp, 'good.json')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--spec FILE is required/);
      assert.match(r.stderr, /usage: tectonic map --spec FILE/);
    });

    it('listed in the usage of tectonic', async () => {
      const r = await tectonic(['--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /\n\s+map\s+apply a mapping spec/);
    });
  });
  // Issue 18: no example spec shipped. The one the README points at, run as
  // the README shows it, and its output checked against the catalog.
  describe('the example spec (specs/shipment-de.yaml)', () => {
    it('the README runs it', () => {
      const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
      assert.match(readme, /tectonic map --spec specs\/shipment-de\.yaml specs\/shipment-de\.records\.jsonl/);
    });

    it('maps the first two example records and refuses the third with both reasons: exit 1', async () => {
      const r = await tectonic(['map', '--spec', 'specs/shipment-de.yaml', 'specs/shipment-de.records.jsonl']);
      assert.equal(r.code, 1, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 3);
      assert.deepEqual(JSON.parse(lines[0] ?? ''), { shipmentId: 'DE-2026-0001', occurredAt: '2026-11-24T07:00:00.000Z', status: 'delivered', weightKg: 1234.5, siteId: 'hub-fra', carrier: { name: 'DHL' } });
      assert.equal((JSON.parse(lines[1] ?? '') as { occurredAt?: string }).occurredAt, '2026-10-25T00:30:00.000Z');
      assert.match(lines[2] ?? '', /^#3 refused: occurredAt .*does not exist in Europe\/Berlin.* \| status .*unknown code "XX"$/);
      assert.match(r.stderr, /2 of 3 record\(s\) mapped to shipment@1\.1\.0/);
    });

    it('what it maps is valid against the sample catalog', async () => {
      const mapped = await tectonic(['map', '--spec', 'specs/shipment-de.yaml', 'specs/shipment-de.records.jsonl']);
      const records = mapped.stdout.split('\n').filter((line) => line.startsWith('{')).join('\n');
      const r = await tectonic(['validate', 'shipment@1.1.0', '-', '--catalog', 'cdm'], records);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /2 of 2 record\(s\) valid against shipment@1\.1\.0/);
    });

    it('a YAML spec with a syntax error: exit 2 naming the file', async () => {
      writeFileSync(join(tmp, 'broken.yaml'), 'entity: shipment\nrules: [\n');
      const r = await tectonic(['map', '--spec', join(tmp, 'broken.yaml'), join(tmp, 'good.json')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /broken\.yaml is not valid YAML/);
    });
  });
});
