import type { Registry } from 'prom-client';

/** One label set of a LocalHistogram: plain counters, no allocation or hashing per observation. */
export class LocalHistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly buckets: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(buckets.length);
  }

  observe(value: number): void {
    const { buckets } = this;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    if (i < buckets.length) this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** One label set of a LocalCounter. */
export class LocalCounterChild {
  value = 0;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  inc(n = 1): void {
    this.value += n;
  }
}

interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A labelled metric for per-request paths. prom-client 15's own label children hash and validate
 * their label object on every call (~200 ns per counter inc, ~450 ns per histogram observe:
 * bench/metrics-cost.ts); these children are plain numbers, and the registry reads them only when
 * scraped, through prom-client's collector interface (`get`, `reset`).
 */
abstract class LocalFamily<Child extends { readonly labels: Readonly<Record<string, string>> }> {
  protected readonly children = new Map<string, Child>();

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {
    registry.registerMetric(this as never);
  }

  /** The child for these label values (in labelNames order); resolve once and keep it where hot. */
  labels(...values: string[]): Child {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (!child) {
      child = this.createChild(Object.fromEntries(this.labelNames.map((name, i) => [name, values[i]!])));
      this.children.set(key, child);
    }
    return child;
  }

  reset(): void {
    this.children.clear();
  }

  protected abstract createChild(labels: Record<string, string>): Child;
}

export class LocalCounter extends LocalFamily<LocalCounterChild> {
  get(): { name: string; help: string; type: 'counter'; values: Sample[]; aggregator: 'sum' } {
    const values = [...this.children.values()].map((child) => ({ labels: { ...child.labels }, value: child.value }));
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }

  protected createChild(labels: Record<string, string>): LocalCounterChild {
    return new LocalCounterChild(labels);
  }
}

export class LocalHistogram extends LocalFamily<LocalHistogramChild> {
  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly buckets: readonly number[],
    labelNames: readonly string[],
  ) {
    super(registry, name, help, labelNames);
  }

  get(): { name: string; help: string; type: 'histogram'; values: Sample[]; aggregator: 'sum' } {
    const values: Sample[] = [];
    for (const child of this.children.values()) {
      const bucket = `${this.name}_bucket`;
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += child.counts[i]!;
        values.push({ metricName: bucket, labels: { le, ...child.labels }, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { le: '+Inf', ...child.labels }, value: child.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...child.labels }, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...child.labels }, value: child.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }

  protected createChild(labels: Record<string, string>): LocalHistogramChild {
    return new LocalHistogramChild(this.buckets, labels);
  }
}

/**
 * An unlabelled gauge whose owner keeps the value and the registry reads it when scraped: for state
 * that changes on every request (bytes and requests in flight), where even a plain gauge set per
 * change would be paid twice per request for a figure read every few seconds.
 */
export class SampledGauge {
  private read: () => number = () => 0;

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
  ) {
    registry.registerMetric(this as never);
  }

  /** Where the value comes from (until then the gauge reads 0). */
  sampleFrom(read: () => number): void {
    this.read = read;
  }

  get(): { name: string; help: string; type: 'gauge'; values: Sample[]; aggregator: 'sum' } {
    return { name: this.name, help: this.help, type: 'gauge', values: [{ labels: {}, value: this.read() }], aggregator: 'sum' };
  }

  reset(): void {}
}

/**
 * A counter with one label whose totals are kept elsewhere (the kernel's, for instance) and read when
 * scraped. No samples until `sampleFrom`: where the figure cannot be read, the metric is absent, not 0.
 */
export class SampledCounter {
  private read: (() => Readonly<Record<string, number>>) | null = null;

  constructor(
    registry: Registry,
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
  ) {
    registry.registerMetric(this as never);
  }

  /** Where the totals come from, by label value. */
  sampleFrom(read: () => Readonly<Record<string, number>>): void {
    this.read = read;
  }

  get(): { name: string; help: string; type: 'counter'; values: Sample[]; aggregator: 'sum' } {
    const totals = this.read?.() ?? {};
    const values = Object.entries(totals).map(([label, value]) => ({ labels: { [this.labelName]: label }, value }));
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }

  reset(): void {}
}
