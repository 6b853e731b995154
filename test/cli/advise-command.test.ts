import { describe, it } from 'mocha';
import assert from 'node:assert/strict';
import { advise, checkSituation, sitesScore } from '../../lib/advise/pattern-advice';
import { tectonic } from '../support/tectonic-cli';

describe('cli/advise: which pattern fits', function () {
  this.timeout(60_000);
  describe('the decision table (lib/advise/pattern-advice.ts, docs/advise.md)', () => {
    const cases: Array<[string, [number, number, number, number], string, number]> = [
      ['heavily regulated, few sites, stable: centralised whatever the total', [5, 5, 1, 9], 'centralised', 1],
      ['the same at ten sites is no longer row 1', [5, 5, 1, 10], 'hybrid', 3],
      ['regulated and few sites but changing: not row 1, and a total of 13 is hybrid', [4, 4, 3, 6], 'hybrid', 3],
      ['low regulation, diversity and velocity dominate, many sites: distributed', [2, 5, 5, 40], 'distributed', 2],
      ['high on everything: hybrid', [4, 4, 4, 50], 'hybrid', 3],
      ['regulation 3 is not low: hybrid even when diversity and velocity are high', [3, 5, 5, 40], 'hybrid', 3],
      ['moderate pressures, few sites: centralised', [2, 2, 2, 3], 'centralised', 4],
      ['a total of exactly 12 is not above 12', [3, 3, 3, 12], 'centralised', 4],
      ['a total of 13 is', [3, 3, 3, 50], 'hybrid', 3],
    ];
    for (const [what, [regulation, diversity, velocity, sites], pattern, rule] of cases) {
      it(what, () => {
        const advice = advise({ regulation, diversity, velocity, sites });
        assert.equal(advice.pattern, pattern);
        assert.equal(advice.rule, rule);
        assert.equal(advice.total, regulation + diversity + velocity + sitesScore(sites));
        assert.ok(advice.reasoning.length >= 2 && advice.packServes.length >= 3);
      });
    }

    it('sites weigh 1 to 5 by size band', () => {
      assert.deepEqual([1, 4, 5, 9, 10, 19, 20, 49, 50, 5000].map(sitesScore), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    });

    it('answers out of range are refused with a reason each', () => {
      const checked = checkSituation({ regulation: 0, diversity: 6, velocity: 2.5, sites: 0 });
      assert.equal(checked.ok, false);
      if (!checked.ok) assert.deepEqual(checked.reasons.map((r) => r.path), ['regulation', 'diversity', 'velocity', 'sites']);
    });
  });

  describe('tectonic advise', () => {
    it('takes flags and prints the pattern, the reasoning and what serves it', async () => {
      const r = await tectonic(['advise', '--regulation', '5', '--diversity', '2', '--velocity', '1', '--sites', '6']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Pattern: centralised \(decision table row 1/);
      assert.match(r.stdout, /whatever the total/);
      assert.match(r.stdout, /What in the pack serves it:/);
    });

    it('reads the answers it was not given from standard input, one per line', async () => {
      const r = await tectonic(['advise', '--json'], '2\n5\n5\n40\n');
      assert.equal(r.code, 0, r.stderr);
      const advice = JSON.parse(r.stdout) as { pattern: string; total: number };
      assert.equal(advice.pattern, 'distributed');
      assert.equal(advice.total, 16);
    });

    it('too few answers or a bad one: exit 2 naming what is wrong', async () => {
      const few = await tectonic(['advise', '--regulation', '3'], '2\n');
      assert.equal(few.code, 2);
      assert.match(few.stderr, /--diversity, --velocity, --sites/);
      const bad = await tectonic(['advise', '--regulation', 'high', '--diversity', '2', '--velocity', '2', '--sites', '3']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /regulation.*1 to 5/);
    });
  });
});
