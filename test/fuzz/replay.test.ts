// Replays every fuzz corpus (fuzz/corpus/<target>/: seeds from real fixtures and every input a
// fuzzer ever broke the contract with) through its target, under the same contract and time
// budget as `npm run fuzz`: each input parses or fails with a documented ProvenantError code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { documentedCodes, violation } from '../../fuzz/engine/contract.ts';
import { TargetRunner } from '../../fuzz/engine/runner.ts';
import { loadCorpus, TARGETS } from '../../fuzz/engine/targets.ts';
import { removeProcessScratch } from '../../fuzz/lib/scratch.ts';

const codes = documentedCodes();

for (const spec of TARGETS) {
  test(`fuzz corpus of ${spec.name} keeps the contract`, async (t) => {
    const corpus = loadCorpus(spec);
    assert.ok(corpus.entries.length > 0, `fuzz/corpus/${spec.name} is empty: run \`npm run fuzz:corpus\``);
    const runner = new TargetRunner(spec, corpus.entries);
    t.after(async () => {
      await runner.stop();
      removeProcessScratch();
    });
    const broken: string[] = [];
    let parsed = 0;
    for (const [i, bytes] of corpus.entries.entries()) {
      const r = await runner.run({ kind: 'raw', bytes });
      if (r.outcome.kind === 'ok') parsed++;
      const why = violation(r.outcome, codes);
      if (why) broken.push(`${corpus.names[i]}: ${why}`);
    }
    assert.deepEqual(broken, []);
    // Seeds are real documents: most of them must get all the way through.
    const seeds = corpus.names.filter((n) => n.startsWith('seed-')).length;
    assert.ok(parsed > 0, `no ${spec.name} seed was accepted (${seeds} seeds)`);
  });
}
