import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidProjectName, normalizeProjectName, parseWheelFileName, wheelFileName, wheelNameComponent } from '../../src/formats/pep503.ts';

test('normalises names per PEP 503', () => {
  assert.equal(normalizeProjectName('Datadog_Checks.Base'), 'datadog-checks-base');
  assert.equal(normalizeProjectName('a--b__c..d'), 'a-b-c-d');
  assert.equal(normalizeProjectName('datadog-postgres'), 'datadog-postgres');
});

test('validates names per PEP 508', () => {
  for (const ok of ['a', 'datadog-postgres', 'A.b_c-1']) assert.equal(isValidProjectName(ok), true, ok);
  for (const bad of ['', '-a', 'a-', 'a b', 'ä', '.a']) assert.equal(isValidProjectName(bad), false, bad);
});

test('escapes names for wheel file names and round-trips the parts', () => {
  assert.equal(wheelNameComponent('datadog-checks-base'), 'datadog_checks_base');
  assert.equal(wheelNameComponent('Foo.Bar--baz'), 'foo_bar_baz');
  const f = wheelFileName('datadog-postgres', '23.2.0', 'py3-none-any');
  assert.equal(f, 'datadog_postgres-23.2.0-py3-none-any.whl');
  assert.deepEqual(parseWheelFileName(f), { name: 'datadog_postgres', version: '23.2.0', buildTag: undefined, tag: 'py3-none-any' });
  assert.equal(parseWheelFileName('x-1.0-py3-none.whl'), undefined);
  assert.equal(parseWheelFileName('x-1.0-py3-none-any.zip'), undefined);
});
