/**
 * Test support: a Prometheus text exposition (format 0.0.4) parsed line by line and checked the
 * way `promtool check metrics` checks one, but for the colons that vLLM's names carry: every line
 * parses, metric and label names are valid, every family has HELP and TYPE before its samples
 * and appears once, no series appears twice, counters are named `_total` and never negative,
 * each histogram series has ascending buckets with non-decreasing counts, a `+Inf` bucket
 * equal to its `_count`, and a `_sum`, and each summary series has a `_sum` and a `_count`
 * (quantiles optional, labelled `quantile`).
 *
 * Written here rather than taken from npm: parse-prometheus-text-format 1.1.1 merged the series
 * of a histogram with labels (prom-client's `nodejs_gc_duration_seconds{kind}`) and lost their
 * `_sum` and `_count`.
 */
import assert from 'node:assert/strict';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** One sample line. */
export interface Sample {
  /** The sample's own name (a histogram's `_bucket`, `_sum` and `_count` included). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: its HELP, TYPE and samples. */
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly samples: Sample[];
}

/** A parsed exposition and the problems found in it. */
export interface Exposition {
  readonly families: ReadonlyMap<string, Family>;
  readonly problems: readonly string[];
}

/** A sample value as Prometheus reads it (Go's ParseFloat: NaN and Inf in any case). */
function parseValue(text: string): number {
  if (/^[+-]?inf(inity)?$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
}

/** `name{a="x",b="y"} value [timestamp]` -> the sample, or a problem. */
function parseSample(line: string): Sample | string {
  const match = /^([^\s{]+)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line);
  if (match === null) return `unparseable line: ${line}`;
  const [, name, body, valueText] = match;
  const labels: Record<string, string> = {};
  let rest = body ?? '';
  while (rest !== '') {
    const label = /^([^=\s]+)="((?:[^"\\]|\\.)*)"\s*(,\s*)?/.exec(rest);
    if (label === null) return `bad labels: ${line}`;
    if (label[1]! in labels) return `label ${label[1]} twice: ${line}`;
    labels[label[1]!] = label[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(label[0].length);
  }
  const value = parseValue(valueText!);
  if (Number.isNaN(value) && !/^nan$/i.test(valueText!)) return `bad value: ${line}`;
  return { name: name!, labels, value };
}

/** The family a sample name belongs to (a histogram's suffixes stripped). */
function familyOf(name: string, families: ReadonlyMap<string, Family>): Family | undefined {
  const direct = families.get(name);
  if (direct !== undefined) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const family = families.get(name.slice(0, -suffix.length));
    if (family?.type === 'histogram' || family?.type === 'summary') return family;
  }
  return undefined;
}

function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort())}`;
}

function histogramProblems(family: Family): string[] {
  const problems: string[] = [];
  const bySeries = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = seriesKey('', rest);
    const series = bySeries.get(key) ?? { buckets: [] };
    bySeries.set(key, series);
    if (sample.name.endsWith('_bucket')) {
      if (le === undefined) problems.push(`${family.name}: bucket without le`);
      else series.buckets.push([parseValue(le), sample.value]);
    } else if (sample.name.endsWith('_sum')) series.sum = sample.value;
    else if (sample.name.endsWith('_count')) series.count = sample.value;
  }
  for (const [key, series] of bySeries) {
    const where = `${family.name}${key}`;
    const { buckets } = series;
    if (buckets.at(-1)?.[0] !== Infinity) problems.push(`${where}: no +Inf bucket last`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]![0] > buckets[i - 1]![0])) problems.push(`${where}: buckets not ascending`);
      if (buckets[i]![1] < buckets[i - 1]![1]) problems.push(`${where}: bucket counts decrease`);
    }
    if (series.sum === undefined || series.count === undefined) {
      problems.push(`${where}: no _sum or _count`);
    } else if (buckets.at(-1)?.[1] !== series.count) {
      problems.push(`${where}: +Inf bucket != _count ${series.count}`);
    }
  }
  return problems;
}

function summaryProblems(family: Family): string[] {
  const problems: string[] = [];
  const bySeries = new Map<string, { sum?: number; count?: number }>();
  for (const sample of family.samples) {
    const { quantile, ...rest } = sample.labels;
    const series = bySeries.get(seriesKey('', rest)) ?? {};
    bySeries.set(seriesKey('', rest), series);
    if (sample.name.endsWith('_sum')) series.sum = sample.value;
    else if (sample.name.endsWith('_count')) series.count = sample.value;
    else if (quantile === undefined)
      problems.push(`${family.name}: quantile sample without quantile`);
  }
  for (const [key, series] of bySeries) {
    if (series.sum === undefined || series.count === undefined) {
      problems.push(`${family.name}${key}: no _sum or _count`);
    } else if (series.count < 0) {
      problems.push(`${family.name}${key}: negative _count`);
    }
  }
  return problems;
}

/** Parses and checks an exposition. */
export function parseExposition(text: string): Exposition {
  const problems: string[] = [];
  const families = new Map<string, Family>();
  const helps = new Map<string, string>();
  const series = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^#\s+(HELP|TYPE)\s+(\S+)\s?(.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta;
      if (!METRIC_NAME.test(name!)) problems.push(`${name}: invalid metric name`);
      if (kind === 'HELP') {
        if (helps.has(name!)) problems.push(`${name}: HELP twice`);
        helps.set(name!, rest!);
      } else {
        if (families.has(name!)) problems.push(`${name}: family appears twice`);
        if (!TYPES.includes(rest!)) problems.push(`${name}: unknown type ${rest}`);
        families.set(name!, {
          name: name!,
          help: helps.get(name!) ?? '',
          type: rest!,
          samples: [],
        });
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = parseSample(line);
    if (typeof sample === 'string') {
      problems.push(sample);
      continue;
    }
    const family = familyOf(sample.name, families);
    if (family === undefined) {
      problems.push(`${sample.name}: sample before its TYPE`);
      continue;
    }
    for (const label of Object.keys(sample.labels)) {
      if (!LABEL_NAME.test(label) || label.startsWith('__')) {
        problems.push(`${sample.name}: invalid label name ${label}`);
      }
    }
    const key = seriesKey(sample.name, sample.labels);
    if (series.has(key)) problems.push(`${key}: series appears twice`);
    series.add(key);
    family.samples.push(sample);
  }
  for (const family of families.values()) {
    if (family.help === '') problems.push(`${family.name}: no HELP`);
    if (family.type === 'counter') {
      if (!family.name.endsWith('_total')) problems.push(`${family.name}: counter without _total`);
      if (family.samples.some((s) => s.value < 0))
        problems.push(`${family.name}: negative counter`);
    }
    if (family.type === 'histogram') problems.push(...histogramProblems(family));
    if (family.type === 'summary') problems.push(...summaryProblems(family));
  }
  return { families, problems };
}

/** The families by name, after asserting the exposition has no problem. */
export function parseValidExposition(text: string): ReadonlyMap<string, Family> {
  const { families, problems } = parseExposition(text);
  assert.deepEqual(problems, []);
  return families;
}

function theSamples(
  families: ReadonlyMap<string, Family>,
  family: string,
  sampleName: string,
  labels: Readonly<Record<string, string>>,
): Sample[] {
  const found = families.get(family);
  assert.ok(found !== undefined, `no metric ${family}`);
  return found.samples.filter(
    (sample) =>
      sample.name === sampleName &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}

/** A gauge's or counter's value in the one series matching `labels`. */
export function valueOf(
  families: ReadonlyMap<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const matches = theSamples(families, name, name, labels);
  assert.equal(matches.length, 1, `${name} ${JSON.stringify(labels)}: ${matches.length} series`);
  return matches[0]!.value;
}

/** A summary's `_count` and `_sum` in the one series matching `labels`. */
export function summaryOf(
  families: ReadonlyMap<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): { readonly count: number; readonly sum: number } {
  const counts = theSamples(families, name, `${name}_count`, labels);
  const sums = theSamples(families, name, `${name}_sum`, labels);
  assert.equal(counts.length, 1, `${name} ${JSON.stringify(labels)}: ${counts.length} series`);
  assert.equal(sums.length, 1, `${name} ${JSON.stringify(labels)}: ${sums.length} sums`);
  return { count: counts[0]!.value, sum: sums[0]!.value };
}

/** A histogram's `_count`, `_sum` and bucket bounds in the one series matching `labels`. */
export function histogramOf(
  families: ReadonlyMap<string, Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): { readonly count: number; readonly sum: number; readonly bounds: string[] } {
  const counts = theSamples(families, name, `${name}_count`, labels);
  const sums = theSamples(families, name, `${name}_sum`, labels);
  assert.equal(counts.length, 1, `${name} ${JSON.stringify(labels)}: ${counts.length} series`);
  const series = counts[0]!.labels;
  const bounds = theSamples(families, name, `${name}_bucket`, series).map((s) => s.labels.le!);
  return { count: counts[0]!.value, sum: sums[0]!.value, bounds };
}
