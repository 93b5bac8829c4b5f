/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4),
 * written from the format's description, not from prom-client, so tests can
 * check what /metrics serves: every line well formed, labels escaped, each
 * family's samples together under one HELP and one TYPE, no duplicate series,
 * histograms with cumulative buckets ending in +Inf and _count equal to it.
 */

export type Labels = Record<string, string>;

export interface PromSample {
  name: string;
  labels: Labels;
  value: number;
}

export interface PromFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help?: string;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export class ExpositionError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

/**
 * Values are what Go's strconv.ParseFloat reads, as the format says: decimal
 * floats, and NaN, Inf, Infinity in any case (prom-client writes 'Nan').
 */
function parseValue(text: string, line: number): number {
  if (/^nan$/i.test(text)) return NaN;
  const inf = /^([-+]?)inf(inity)?$/i.exec(text);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new ExpositionError(line, `bad sample value '${text}'`);
  return Number(text);
}

/** `name{a="x",b="y"} value [timestamp]`: labels are read char by char, as escapes may hide '"', ',' and '}'. */
function parseSample(text: string, line: number): PromSample {
  let i = 0;
  while (i < text.length && text[i] !== '{' && text[i] !== ' ') i++;
  const name = text.slice(0, i);
  if (!METRIC_NAME.test(name)) throw new ExpositionError(line, `bad metric name '${name}'`);
  const labels: Labels = {};
  if (text[i] === '{') {
    i++;
    while (text[i] !== '}') {
      const eq = text.indexOf('=', i);
      if (eq < 0) throw new ExpositionError(line, 'label without =');
      const label = text.slice(i, eq);
      if (!LABEL_NAME.test(label)) throw new ExpositionError(line, `bad label name '${label}'`);
      if (label in labels) throw new ExpositionError(line, `label ${label} given twice`);
      if (text[eq + 1] !== '"') throw new ExpositionError(line, `label ${label} value is not quoted`);
      let value = '';
      let j = eq + 2;
      for (;;) {
        const c = text[j];
        if (c === undefined) throw new ExpositionError(line, `label ${label} value is not terminated`);
        if (c === '"') break;
        if (c === '\n') throw new ExpositionError(line, 'raw newline in a label value');
        if (c === '\\') {
          const e = text[j + 1];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new ExpositionError(line, `bad escape \\${e ?? ''} in label ${label}`);
          j += 2;
        } else {
          value += c;
          j++;
        }
      }
      labels[label] = value;
      i = j + 1;
      if (text[i] === ',') i++;
      else if (text[i] !== '}') throw new ExpositionError(line, `expected , or } after label ${label}`);
    }
    i++;
  }
  if (text[i] !== ' ') throw new ExpositionError(line, 'expected a space before the value');
  const rest = text.slice(i + 1).split(' ');
  if (rest.length > 2 || rest[0] === '') throw new ExpositionError(line, `bad value part '${text.slice(i + 1)}'`);
  if (rest.length === 2 && !/^-?\d+$/.test(rest[1])) throw new ExpositionError(line, `bad timestamp '${rest[1]}'`);
  return { name, labels, value: parseValue(rest[0], line) };
}

/** The family a sample belongs to: its own name, or the histogram/summary its suffix points at. */
function familyOf(sample: string, families: Map<string, PromFamily>): PromFamily | undefined {
  const own = families.get(sample);
  if (own) return own;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

export function seriesKey(name: string, labels: Labels): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`;
}

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey(f.name, rest);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${key}: a bucket without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else if (s.name === `${f.name}_count`) g.count = s.value;
    else throw new Error(`${key}: histogram sample ${s.name}`);
  }
  for (const [key, g] of groups) {
    if (g.buckets.length === 0 || g.sum === undefined || g.count === undefined) throw new Error(`${key}: needs buckets, _sum and _count`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i][0] > g.buckets[i - 1][0])) throw new Error(`${key}: bucket bounds not ascending`);
      if (g.buckets[i][1] < g.buckets[i - 1][1]) throw new Error(`${key}: buckets not cumulative`);
    }
    const last = g.buckets[g.buckets.length - 1];
    if (last[0] !== Infinity) throw new Error(`${key}: the last bucket is not +Inf`);
    if (last[1] !== g.count) throw new Error(`${key}: _count ${g.count} differs from the +Inf bucket ${last[1]}`);
  }
}

/** Parse and validate; throws on the first violation, naming the line. */
export function parseExposition(text: string): Map<string, PromFamily> {
  if (!text.endsWith('\n')) throw new ExpositionError(0, 'the text does not end with a newline');
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  let current: PromFamily | undefined;
  const declared = (name: string, line: number): PromFamily => {
    let f = families.get(name);
    if (!f) {
      if (!METRIC_NAME.test(name)) throw new ExpositionError(line, `bad metric name '${name}'`);
      families.set(name, (f = { name, type: 'untyped', samples: [] }));
    } else if (f !== current || f.samples.length > 0) {
      throw new ExpositionError(line, `${name} is described again or after its samples`);
    }
    current = f;
    return f;
  };
  text
    .slice(0, -1)
    .split('\n')
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === '') return;
      if (raw.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
        if (!m) return; // any other comment
        const f = declared(m[2], line);
        if (m[1] === 'HELP') {
          if (f.help !== undefined) throw new ExpositionError(line, `second HELP for ${f.name}`);
          const help = m[3] ?? '';
          if (/\\[^\\n]|\\$/.test(help.replace(/\\\\/g, ''))) throw new ExpositionError(line, 'bad escape in HELP');
          f.help = help.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
        } else {
          if (!m[3] || !TYPES.has(m[3])) throw new ExpositionError(line, `bad TYPE '${m[3] ?? ''}'`);
          if (f.type !== 'untyped' || f.samples.length > 0) throw new ExpositionError(line, `TYPE for ${f.name} too late`);
          f.type = m[3] as PromFamily['type'];
        }
        return;
      }
      const sample = parseSample(raw, line);
      const f = familyOf(sample.name, families);
      if (!f) throw new ExpositionError(line, `${sample.name} has no HELP or TYPE`);
      if (f !== current) throw new ExpositionError(line, `${sample.name} is apart from the rest of ${f.name}`);
      const key = seriesKey(sample.name, sample.labels);
      if (seen.has(key)) throw new ExpositionError(line, `duplicate series ${key}`);
      seen.add(key);
      f.samples.push(sample);
    });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** The value of one series (labels must match exactly), or undefined. */
export function sampleValue(families: Map<string, PromFamily>, name: string, labels: Labels = {}): number | undefined {
  const key = seriesKey(name, labels);
  for (const f of families.values()) {
    for (const s of f.samples) if (seriesKey(s.name, s.labels) === key) return s.value;
  }
  return undefined;
}

/** Every sample of a name whose labels include `match`. */
export function samplesOf(families: Map<string, PromFamily>, name: string, match: Labels = {}): PromSample[] {
  const out: PromSample[] = [];
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) out.push(s);
    }
  }
  return out;
}
