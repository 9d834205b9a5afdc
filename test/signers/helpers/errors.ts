import assert from 'node:assert/strict';
import { ProvenantError } from '../../../src/errors.ts';

/** For assert.rejects/throws: a ProvenantError with this code, a hint, and (optionally) a message matching `match` that never shows `secret`. */
export function isError(code: string, match?: RegExp, secret?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof ProvenantError, String(e));
    assert.equal(e.code, code, e.message);
    assert.ok(e.hint, `${code} has a hint`);
    if (match) assert.match(e.message, match);
    if (secret) assert.ok(!e.describe().includes(secret), `no ${secret} in: ${e.describe()}`);
    return true;
  };
}
