import { describe, expect, it } from 'vitest';
import { parseExposition, sampleValue } from './prometheus-text';

const GOOD = [
  '# HELP http_requests_total Requests, with a \\\\ and a \\n in the help.',
  '# TYPE http_requests_total counter',
  'http_requests_total{method="GET",path="/a \\"b\\", c\\\\d\\ne"} 3',
  'http_requests_total{method="POST"} 1e3 1700000000000',
  '',
  '# A free comment',
  '# TYPE rpc_seconds histogram',
  'rpc_seconds_bucket{le="0.1"} 2',
  'rpc_seconds_bucket{le="1"} 5',
  'rpc_seconds_bucket{le="+Inf"} 6',
  'rpc_seconds_sum 3.5',
  'rpc_seconds_count 6',
  '# TYPE temp gauge',
  'temp -Inf',
  'temp{x="y",} NaN',
  'temp{x="z"} Nan',
  'temp{x="w"} +inf',
  '',
].join('\n');

describe('parseExposition', () => {
  it('reads families, escaped labels and special values', () => {
    const f = parseExposition(GOOD);
    expect(f.get('http_requests_total')).toMatchObject({ type: 'counter', help: 'Requests, with a \\ and a \n in the help.' });
    expect(sampleValue(f, 'http_requests_total', { method: 'GET', path: '/a "b", c\\d\ne' })).toBe(3);
    expect(sampleValue(f, 'http_requests_total', { method: 'POST' })).toBe(1000);
    expect(f.get('rpc_seconds')!.samples).toHaveLength(5);
    expect(sampleValue(f, 'temp')).toBe(-Infinity);
    expect(sampleValue(f, 'temp', { x: 'y' })).toBeNaN();
    expect(sampleValue(f, 'temp', { x: 'z' })).toBeNaN();
    expect(sampleValue(f, 'temp', { x: 'w' })).toBe(Infinity);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['no final newline', '# TYPE a counter\na 1', /newline/],
    ['bad metric name', '# TYPE 1a counter\n', /metric name/],
    ['bad value', '# TYPE a counter\na one\n', /value/],
    ['half a value', '# TYPE a counter\na 1.5x\n', /value/],
    ['unquoted label', '# TYPE a counter\na{x=1} 1\n', /not quoted/],
    ['bad escape', '# TYPE a counter\na{x="\\t"} 1\n', /escape/],
    ['unterminated label', '# TYPE a counter\na{x="y} 1\n', /terminated|expected/],
    ['duplicate series', '# TYPE a counter\na{x="1"} 1\na{x="1"} 2\n', /duplicate/],
    ['sample with no TYPE', 'a 1\n', /no HELP or TYPE/],
    ['split family', '# TYPE a counter\na{x="1"} 1\n# TYPE b gauge\nb 1\na{x="2"} 1\n', /apart/],
    ['TYPE after samples', '# TYPE a counter\na 1\n# TYPE a counter\n', /again|late/],
    ['unknown TYPE', '# TYPE a thing\n', /TYPE/],
    ['non-cumulative buckets', '# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n', /cumulative/],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 3\nh_sum 1\nh_count 3\n', /\+Inf/],
    ['_count off the +Inf bucket', '# TYPE h histogram\nh_bucket{le="+Inf"} 3\nh_sum 1\nh_count 4\n', /_count/],
    ['histogram without _sum', '# TYPE h histogram\nh_bucket{le="+Inf"} 3\nh_count 3\n', /_sum/],
  ];
  for (const [what, text, error] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => parseExposition(text)).toThrow(error);
    });
  }
});
