import { after, before, describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { tectonic } from '../support/tectonic-cli';

describe('cli/tectonic-cli', function () {
  // Each test runs the real command (a tsx start of a second or more); on a loaded machine, several seconds.
  this.timeout(60_000);
  const root = join(__dirname, '../..');

  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'tectonic-cli-'));
    writeFileSync(join(tmp, 'open-1.json'), JSON.stringify({ type: 'object', properties: { id: { type: 'string' } } }));
    writeFileSync(join(tmp, 'open-2.json'), JSON.stringify({ type: 'object', properties: { id: { type: 'string' }, age: { type: 'integer' } } }));
    writeFileSync(join(tmp, 'broken.json'), '{ "type": ');
    const shipment = { shipmentId: 'S-1', occurredAt: '2026-11-24T10:00:00Z', status: 'delivered', weightKg: 3.5, siteId: 'site-a' };
    writeFileSync(join(tmp, 'records.jsonl'), `${JSON.stringify(shipment)}\n\n${JSON.stringify({ ...shipment, shipmentId: 17 })}\n`);
    writeFileSync(join(tmp, 'records.json'), JSON.stringify([shipment, { ...shipment, status: 'in_transit' }], null, 2));
    // A catalog whose newest shipment version breaks BACKWARD.
    cpSync(join(root, 'cdm'), join(tmp, 'bad-cdm'), { recursive: true });
    const v11 = JSON.parse(readFileSync(join(root, 'cdm/shipment/1.1.0.schema.json'), 'utf8')) as { $id: string; required: string[] };
    writeFileSync(join(tmp, 'bad-cdm/shipment/1.2.0.schema.json'), JSON.stringify({ ...v11, $id: 'https://tectonic.example/cdm/shipment/1.2.0', required: [...v11.required, 'carrier'] }));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('tectonic (dispatcher)', () => {
    it('no command: usage on stderr, exit 2', async () => {
      const r = await tectonic([]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /usage: tectonic <command>/);
      assert.match(r.stderr, /compat/);
    });

    it('unknown command: exit 2', async () => {
      const r = await tectonic(['frobnicate']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown command "frobnicate"/);
    });

    it('--version: the package version, exit 0', async () => {
      const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
      for (const flag of ['--version', '-V']) {
        const r = await tectonic([flag]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, `tectonic ${version} (@tectonic/node-red-hybrid)\n`);
      }
    });

    // Issue 18: a missing path answered with a bare ENOENT. Every command
    // that reads a path says which one and why, in words, and exits 2.
    const missing = (name: string): string => join(tmp, 'missing', name);
    const missingCases: Array<[string, () => string[], RegExp]> = [
      ['compat SCHEMA', () => ['compat', '--level', 'FULL', missing('a.json')], /cannot read .*a\.json: no such file\n/],
      ['compat --catalog', () => ['compat', '--level', 'FULL', '--catalog', missing('cdm'), join(tmp, 'open-1.json')], /cannot read .*cdm: no such folder\n/],
      ['catalog check DIR', () => ['catalog', 'check', missing('cdm')], /cannot read .*cdm: no such folder\n/],
      ['validate FILE', () => ['validate', 'shipment@1.1.0', missing('r.json'), '--catalog', join(root, 'cdm')], /cannot read .*r\.json: no such file\n/],
      ['validate --catalog', () => ['validate', 'shipment@1.1.0', join(tmp, 'records.json'), '--catalog', missing('cdm')], /cannot read .*cdm: no such folder\n/],
      ['map --spec', () => ['map', '--spec', missing('spec.json'), join(tmp, 'records.json')], /cannot read .*spec\.json: no such file\n/],
      ['policy sign BUNDLE', () => ['policy', 'sign', missing('p.yaml'), '--key', join(root, 'policies/demo-policy.key')], /cannot read .*p\.yaml: no such file\n/],
      ['policy sign --key', () => ['policy', 'sign', join(root, 'policies/central-default.yaml'), '--key', missing('k.key')], /cannot read .*k\.key: no such file\n/],
      ['policy verify SIGNED', () => ['policy', 'verify', missing('s.json'), '--pub', join(root, 'policies/demo-policy.pub')], /cannot read .*s\.json: no such file\n/],
      ['policy verify --pub', () => ['policy', 'verify', join(root, 'policies/central-default.signed.json'), '--pub', missing('p.pub')], /cannot read .*p\.pub: no such file\n/],
      ['policy apply --bundle', () => ['policy', 'apply', '--bundle', missing('s.json'), '--pub', join(root, 'policies/demo-policy.pub'), join(tmp, 'records.json')], /cannot read .*s\.json: no such file\n/],
      ['a folder given as a file', () => ['compat', '--level', 'FULL', tmp], /cannot read .*: it is a folder, not a file\n/],
      ['a file given as a catalog', () => ['catalog', 'check', join(tmp, 'open-1.json')], /open-1\.json is a file; a catalog is a folder/],
    ];
    for (const [label, args, expected] of missingCases) {
      it(`a missing path, ${label}: says which and why, exit 2`, async () => {
        const r = await tectonic(args());
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, expected);
        assert.doesNotMatch(r.stderr, /ENOENT|EISDIR|internal error/);
      });
    }

    it('--help of a command: exit 0', async () => {
      const r = await tectonic(['compat', '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /--level LEVEL/);
    });
  });

  describe('tectonic compat', () => {
    it('the README\'s compat line passes with the sample catalog; without --catalog the $refs are unresolved and a hint says why', async () => {
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      const line = /^\s+(?:npx )?tectonic (compat --level \S+ --catalog \S+ [^\n]+)$/m.exec(readme)?.[1];
      assert.ok(line !== undefined, 'the README shows a compat line with --catalog');
      const args = line.split(/\s+/);
      const withCatalog = await tectonic(args);
      assert.equal(withCatalog.code, 0, withCatalog.stdout + withCatalog.stderr);
      assert.match(withCatalog.stdout, /^compatible: /);
      const at = args.indexOf('--catalog');
      const without = await tectonic([...args.slice(0, at), ...args.slice(at + 2)]);
      assert.equal(without.code, 1);
      assert.match(without.stdout, /ref-unresolved/);
      assert.match(without.stderr, /hint: .*--catalog DIR/);
    });

    it('incompatible under STRICT: exit 1, --json gives compatible and reasons', async () => {
      const r = await tectonic(['compat', '--level', 'BACKWARD', '--json', join(tmp, 'open-1.json'), join(tmp, 'open-2.json')]);
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { compatible: boolean; reasons: { path: string; rule: string; message: string; against: string }[] };
      assert.equal(out.compatible, false);
      assert.deepEqual(out.reasons.map((x) => [x.path, x.rule]), [['$.age', 'property-added-to-open-content-model']]);
      assert.equal(typeof out.reasons[0]?.message, 'string');
      assert.equal(out.reasons[0]?.against, join(tmp, 'open-1.json'));
    });

    it('the same change under --lenient: exit 0', async () => {
      const r = await tectonic(['compat', '--level', 'BACKWARD', '--lenient', join(tmp, 'open-1.json'), join(tmp, 'open-2.json')]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^compatible: .* under BACKWARD \(LENIENT\)/);
    });

    it('text output lists each breaking change', async () => {
      const r = await tectonic(['compat', '--level', 'FULL', join(tmp, 'open-2.json'), join(tmp, 'open-1.json')]);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /NOT compatible/);
      assert.match(r.stdout, /\$\.age\s+\[property-removed-from-open-content-model\]/);
    });

    it('catalog schemas with cross-file $refs, resolved with --catalog', async () => {
      const r = await tectonic(['compat', '--level', 'FORWARD_TRANSITIVE', '--catalog', 'cdm', '--json', 'cdm/inventory-level/1.0.0.schema.json', 'cdm/inventory-level/1.1.0.schema.json', 'cdm/inventory-level/1.2.0.schema.json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { compatible: true, level: 'FORWARD_TRANSITIVE', policy: 'STRICT', reasons: [] });
    });

    const usageErrors: [string, string[], RegExp][] = [
      ['missing --level', ['compat', 'a.json'], /--level is required/],
      ['unknown level', ['compat', '--level', 'SIDEWAYS', 'a.json'], /unknown level "SIDEWAYS"/],
      ['no schema', ['compat', '--level', 'FULL'], /at least one SCHEMA/],
      ['unreadable file', ['compat', '--level', 'FULL', 'no/such/file.json'], /cannot read no\/such\/file.json/],
      ['malformed JSON', ['compat', '--level', 'FULL', '__TMP__/broken.json'], /not valid JSON/],
      ['unknown option', ['compat', '--level', 'FULL', '--frob', 'a.json'], /Unknown option '--frob'/],
    ];
    for (const [name, args, message] of usageErrors) {
      it(`usage or input error, exit 2: ${name}`, async () => {
        const r = await tectonic(args.map((a) => a.replace('__TMP__', tmp)));
        assert.equal(r.code, 2, r.stdout + r.stderr);
        assert.match(r.stderr, message);
      });
    }
  });

  describe('tectonic catalog check', () => {
    it('the sample catalog: exit 0', async () => {
      const r = await tectonic(['catalog', 'check', 'cdm']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /ok\s+shipment\s+BACKWARD\s+1\.0\.0 -> 1\.1\.0/);
      assert.match(r.stdout, /catalog ok/);
    });

    it('a version breaking its level: exit 1 with the reason in --json', async () => {
      const r = await tectonic(['catalog', 'check', join(tmp, 'bad-cdm'), '--json']);
      assert.equal(r.code, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { ok: boolean; stage: string; reasons: { entity: string; version: string; path: string; rule: string }[]; entities: { entity: string; compatible: boolean }[] };
      assert.equal(out.ok, false);
      assert.equal(out.stage, 'compatibility');
      assert.deepEqual(out.reasons.map((x) => [x.entity, x.version, x.path, x.rule]), [['shipment', '1.2.0', '$.carrier', 'required-added']]);
      assert.equal(out.entities.find((e) => e.entity === 'shipment')?.compatible, false);
    });

    it('a folder that is not a catalog: exit 2', async () => {
      const r = await tectonic(['catalog', 'check', tmp]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /not a catalog folder/);
    });

    it('unknown subcommand: exit 2', async () => {
      const r = await tectonic(['catalog', 'publish', 'cdm']);
      assert.equal(r.code, 2);
    });
  });

  describe('tectonic validate', () => {
    it('JSON Lines with one bad record: exit 1, each record\'s verdict', async () => {
      const r = await tectonic(['validate', 'shipment@1.1.0', join(tmp, 'records.jsonl'), '--catalog', 'cdm']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /#1 valid/);
      assert.match(r.stdout, /#2 invalid\n\s+shipmentId\s+\[type\]\s+must be string, got integer/);
      assert.match(r.stdout, /1 of 2 record\(s\) valid/);
    });

    it('a JSON array, all valid, --json: exit 0 and the deprecation of the version', async () => {
      const r = await tectonic(['validate', 'shipment@1.0.0', join(tmp, 'records.json'), '--catalog', 'cdm', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { valid: boolean; records: { index: number; ok: boolean }[]; deprecation: { deprecated: boolean; sunset: string } };
      assert.equal(out.valid, true);
      assert.deepEqual(out.records, [{ index: 0, ok: true }, { index: 1, ok: true }]);
      assert.equal(out.deprecation.deprecated, true);
      assert.equal(out.deprecation.sunset, '2027-06-30');
    });

    it('records from standard input with "-"', async () => {
      const r = await tectonic(['validate', 'shipment@1.1.0', '-', '--catalog', 'cdm', '--json'], '{"shipmentId":"S"}\n');
      assert.equal(r.code, 1);
      const out = JSON.parse(r.stdout) as { records: { ok: boolean; reasons: { path: string; rule: string }[] }[] };
      assert.deepEqual(out.records[0]?.reasons.map((x) => x.path).sort(), ['occurredAt', 'siteId', 'status', 'weightKg']);
    });

    it('unknown entity: exit 2 with a clear reason', async () => {
      const r = await tectonic(['validate', 'invoice@1.0.0', join(tmp, 'records.json'), '--catalog', 'cdm']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no entity "invoice"/);
    });

    it('missing --catalog: exit 2', async () => {
      const r = await tectonic(['validate', 'shipment@1.0.0', join(tmp, 'records.json')]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--catalog DIR is required/);
    });

    it('a records file that is not JSON: exit 2', async () => {
      const r = await tectonic(['validate', 'shipment@1.0.0', join(tmp, 'broken.json'), '--catalog', 'cdm']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /not valid JSON/);
    });
  });
});
