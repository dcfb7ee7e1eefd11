import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../examples/transfers.js';
import { checkedMode } from './support/helpers.js';

describe('examples', () => {
  it('transfers: the naive AB/BA is rejected with a DeadlockError, lockAll completes both', async () => {
    checkedMode();
    const result = await main();
    assert.deepEqual(result.naive, ['done', 'DeadlockError']);
    assert.deepEqual(result.safe, ['done', 'done']);
  });
});
