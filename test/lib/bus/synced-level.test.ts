// lib/bus/synced-level.ts: every write the broker's persistence makes through
// the wrapper reaches the database with sync: true, its own options kept;
// reads pass through. A fake database records the calls.
import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { withSyncedWrites } from '../../../lib/bus/synced-level';

interface Call {
  method: string;
  args: unknown[];
}

type Methods = Record<string, (...args: unknown[]) => unknown>;

function fakeDb(): { db: Methods; calls: Call[] } {
  const calls: Call[] = [];
  const record =
    (method: string, result: () => unknown = () => undefined) =>
    (...args: unknown[]): unknown => {
      calls.push({ method, args });
      return result();
    };
  const chainedBatch: Methods = {};
  chainedBatch.put = record('chained.put', () => chainedBatch);
  chainedBatch.del = record('chained.del', () => chainedBatch);
  chainedBatch.write = record('chained.write', () => Promise.resolve());
  const batch = record('batch');
  const db: Methods = {
    put: record('put'),
    del: record('del'),
    get: record('get'),
    batch: (...args: unknown[]) => {
      batch(...args);
      return args.length === 0 ? chainedBatch : Promise.resolve();
    },
  };
  return { db, calls };
}

describe('lib/bus/synced-level', () => {
  const enc = { valueEncoding: 'buffer' };
  const cases: Array<{ name: string; run(db: Methods): unknown; expected: Call[] }> = [
    { name: 'put', run: (db) => db.put?.('k', 'v', enc), expected: [{ method: 'put', args: ['k', 'v', { ...enc, sync: true }] }] },
    { name: 'put without options', run: (db) => db.put?.('k', 'v'), expected: [{ method: 'put', args: ['k', 'v', { sync: true }] }] },
    { name: 'del', run: (db) => db.del?.('k'), expected: [{ method: 'del', args: ['k', { sync: true }] }] },
    { name: 'batch(ops)', run: (db) => db.batch?.([{ type: 'del', key: 'k' }], enc), expected: [{ method: 'batch', args: [[{ type: 'del', key: 'k' }], { ...enc, sync: true }] }] },
    { name: 'get is a read: unchanged', run: (db) => db.get?.('k', enc), expected: [{ method: 'get', args: ['k', enc] }] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { db, calls } = fakeDb();
      c.run(withSyncedWrites(db));
      assert.deepEqual(calls, c.expected);
    });
  }

  it('a chained batch is written with sync: true, also through the chain put() and del() return', async () => {
    const { db, calls } = fakeDb();
    const batch = withSyncedWrites(db).batch?.() as Methods;
    const chain = batch.del?.('a') as Methods;
    await chain.write?.();
    assert.deepEqual(calls, [
      { method: 'batch', args: [] },
      { method: 'chained.del', args: ['a'] },
      { method: 'chained.write', args: [{ sync: true }] },
    ]);
  });
});
