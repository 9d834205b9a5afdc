import assert from 'node:assert/strict';
import { test } from 'node:test';
import { negotiateSimple } from '../../src/simple-index/negotiate.ts';

const JSON_V1 = 'application/vnd.pypi.simple.v1+json';
const HTML_V1 = 'application/vnd.pypi.simple.v1+html';

// [Accept header, expected Content-Type or 406]
const MATRIX: [string | undefined, string | 406][] = [
  [undefined, 'text/html; charset=utf-8'],
  ['', 'text/html; charset=utf-8'],
  ['*/*', 'text/html; charset=utf-8'],
  ['text/html', 'text/html; charset=utf-8'],
  ['text/*', 'text/html; charset=utf-8'],
  [JSON_V1, JSON_V1],
  ['application/vnd.pypi.simple.latest+json', JSON_V1],
  [HTML_V1, HTML_V1],
  ['application/vnd.pypi.simple.latest+html', HTML_V1],
  // pip's header since 22.2
  [`${JSON_V1}, ${HTML_V1}; q=0.1, text/html; q=0.01`, JSON_V1],
  // q-values beat order
  [`text/html;q=0.5, ${JSON_V1};q=0.9`, JSON_V1],
  [`${JSON_V1};q=0.2, text/html`, 'text/html; charset=utf-8'],
  // equal weights: the client's order decides
  [`${JSON_V1}, text/html`, JSON_V1],
  [`text/html, ${JSON_V1}`, 'text/html; charset=utf-8'],
  // a specific match outranks a wildcard of the same weight
  [`*/*;q=0.5, ${JSON_V1};q=0.5`, JSON_V1],
  // the most specific range sets an offer's weight: JSON excluded explicitly, wildcard allows the rest
  [`${JSON_V1};q=0, */*`, 'text/html; charset=utf-8'],
  [`*/*;q=0.1, text/html;q=0`, HTML_V1],
  ['application/*', HTML_V1],
  ['APPLICATION/VND.PYPI.SIMPLE.V1+JSON', JSON_V1],
  // unsupported only: 406
  ['application/json', 406],
  ['application/vnd.pypi.simple.v2+json', 406],
  ['image/png, application/xml;q=0.9', 406],
  [`${JSON_V1};q=0`, 406],
  // malformed q makes the range unusable
  [`${JSON_V1};q=2, text/html;q=0.1`, 'text/html; charset=utf-8'],
];

for (const [accept, want] of MATRIX) {
  test(`Accept: ${accept === undefined ? '(none)' : JSON.stringify(accept)} → ${want}`, () => {
    const got = negotiateSimple(accept);
    if (want === 406) assert.equal(got, undefined);
    else {
      assert.equal(got?.contentType, want);
      assert.equal(got?.format, want === JSON_V1 ? 'json' : 'html');
    }
  });
}

test('when a page exists only as HTML, a JSON-preferring client gets HTML and a JSON-only client 406', () => {
  const pip = `${JSON_V1}, ${HTML_V1}; q=0.1, text/html; q=0.01`;
  assert.equal(negotiateSimple(pip, ['html'])?.contentType, HTML_V1);
  assert.equal(negotiateSimple(undefined, ['html'])?.contentType, 'text/html; charset=utf-8');
  assert.equal(negotiateSimple(JSON_V1, ['html']), undefined);
  assert.equal(negotiateSimple(undefined, ['json'])?.contentType, JSON_V1, 'no Accept: whatever exists');
});
