// guardRetainedReads on its own: a failing retained read is reported, not
// thrown; endAll() ends the reads still open and silences their errors.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'mocha';
import { guardRetainedReads } from '../../../lib/bus/retained-reads';

/** A store whose retained reads yield one packet and then wait, or fail, as told. */
function store(fail: Error | undefined): { createRetainedStreamCombi(patterns: string[]): Readable } {
  return {
    createRetainedStreamCombi: () =>
      Readable.from(
        (async function* () {
          yield { topic: 'a/b' };
          if (fail !== undefined) throw fail;
          await new Promise(() => undefined);
        })(),
      ),
  };
}

describe('lib/bus/retained-reads', () => {
  it('a read that fails while the broker runs is reported once, with no uncaught error', async () => {
    const reported: string[] = [];
    const persistence = store(new Error('LEVEL_IO_ERROR: disk gone'));
    guardRetainedReads(persistence, (err) => reported.push(err.message));
    const stream = persistence.createRetainedStreamCombi(['#']);
    stream.resume();
    await new Promise((resolve) => stream.once('close', resolve));
    assert.deepEqual(reported, ['LEVEL_IO_ERROR: disk gone']);
  });

  it('endAll() ends the reads still open and reports nothing for them', async () => {
    const reported: string[] = [];
    const persistence = store(undefined);
    const reads = guardRetainedReads(persistence, (err) => reported.push(err.message));
    const streams = [persistence.createRetainedStreamCombi(['#']), persistence.createRetainedStreamCombi(['a/#'])];
    for (const stream of streams) stream.resume();
    await reads.endAll(1000);
    assert.deepEqual(streams.map((s) => s.destroyed), [true, true]);
    assert.deepEqual(reported, []);
  });
});
