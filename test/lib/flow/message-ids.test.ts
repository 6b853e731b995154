import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { messageIdSource } from '../../../lib/flow/message-ids';

describe('lib/flow/message-ids', () => {
  it('ids are unique within a source and between sources', () => {
    const a = messageIdSource();
    const b = messageIdSource();
    const ids = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      ids.add(a());
      ids.add(b());
    }
    assert.equal(ids.size, 100_000);
    assert.match(a(), /^[0-9a-f]{12}[0-9a-z]+$/);
  });
});
