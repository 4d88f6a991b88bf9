/**
 * The exposition checker of test/support/prometheus-exposition.ts: a valid exposition (labelled
 * histograms, NaN, +Inf, escapes) passes, and each rule it enforces catches its breakage.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseExposition } from './support/prometheus-exposition.ts';

const VALID = `# HELP vllm:requests_total Requests.
# TYPE vllm:requests_total counter
vllm:requests_total{model_name="m",reason="a \\"q\\" b"} 3
# HELP lag Lag.
# TYPE lag gauge
lag NaN
# HELP h Durations.
# TYPE h histogram
h_bucket{le="0.1",kind="major"} 0
h_bucket{le="+Inf",kind="major"} 1
h_sum{kind="major"} 0.5
h_count{kind="major"} 1
h_bucket{le="0.1",kind="minor"} 2
h_bucket{le="+Inf",kind="minor"} 3
h_sum{kind="minor"} 0.2
h_count{kind="minor"} 3
# HELP s_bytes Sizes.
# TYPE s_bytes summary
s_bytes_sum{handler="/a"} 12
s_bytes_count{handler="/a"} 2
s_bytes{handler="/b",quantile="0.5"} 4
s_bytes_sum{handler="/b"} 4
s_bytes_count{handler="/b"} 1
`;

describe('Prometheus exposition checker', () => {
  it('accepts a valid exposition and reads its series', () => {
    const { families, problems } = parseExposition(VALID);
    assert.deepEqual(problems, []);
    assert.equal(families.get('vllm:requests_total')!.samples[0]!.labels.reason, 'a "q" b');
    assert.ok(Number.isNaN(families.get('lag')!.samples[0]!.value));
    assert.equal(families.get('h')!.samples.length, 8);
  });

  for (const [rule, text, problem] of [
    ['counter suffix', VALID.replaceAll('vllm:requests_total', 'vllm:requests'), /without _total/],
    [
      '+Inf equals _count',
      VALID.replace('h_count{kind="minor"} 3', 'h_count{kind="minor"} 4'),
      /\+Inf bucket/,
    ],
    [
      'ascending counts',
      VALID.replace('h_bucket{le="0.1",kind="minor"} 2', 'h_bucket{le="0.1",kind="minor"} 5'),
      /decrease/,
    ],
    ['a series once', VALID + 'lag 1\n', /appears twice/],
    ['summary _count', VALID.replace('s_bytes_count{handler="/a"} 2\n', ''), /no _sum or _count/],
    [
      'summary quantile label',
      VALID.replace('s_bytes{handler="/b",quantile="0.5"}', 's_bytes{handler="/b"}'),
      /quantile sample without quantile/,
    ],
    ['TYPE before samples', VALID + 'stray 1\n', /before its TYPE/],
    ['HELP present', VALID.replace('# HELP lag Lag.\n', ''), /no HELP/],
    ['values are numbers', VALID.replace('lag NaN', 'lag abc'), /bad value/],
    ['label names', VALID.replace('kind="major"} 0', 'kind="major",__x="1"} 0'), /invalid label/],
  ] as const) {
    it(`finds a broken rule: ${rule}`, () => {
      const { problems } = parseExposition(text);
      assert.ok(
        problems.some((p) => problem.test(p)),
        `${rule}: ${JSON.stringify(problems)}`,
      );
    });
  }
});
