/**
 * A small Prometheus registry with the text exposition format (version 0.0.4): counters,
 * gauges read at scrape time, and histograms. Enough for the API's own metrics without a
 * dependency; each app instance has its own registry, so tests see only their own numbers.
 */
type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return Number.isNaN(n) ? 'NaN' : String(n);
}

interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(): Promise<string[]> | string[];
}

export class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1) {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  /** The current value for exactly these labels (0 when never counted). */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  render(): string[] {
    return [...this.values].map(([key, v]) => `${this.name}${key ? `{${key}}` : ''} ${formatNumber(v)}`);
  }
}

export class Histogram {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}
  observe(value: number, labels: Labels = {}) {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    this.buckets.forEach((le, i) => {
      if (value <= le) s.counts[i]! += 1;
    });
    s.sum += value;
    s.count += 1;
  }
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }
  render(): string[] {
    const lines: string[] = [];
    for (const [key, s] of this.series) {
      const with_ = (extra: string) => `{${[key, extra].filter(Boolean).join(',')}}`;
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket${with_(`le="${le}"`)} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${with_('le="+Inf"')} ${s.count}`);
      lines.push(`${this.name}_sum${key ? `{${key}}` : ''} ${formatNumber(s.sum)}`);
      lines.push(`${this.name}_count${key ? `{${key}}` : ''} ${s.count}`);
    }
    return lines;
  }
}

export class PrometheusRegistry {
  private readonly metrics: Metric[] = [];

  private add<T extends { name: string; help: string }>(
    metric: T,
    type: Metric['type'],
    render: () => Promise<string[]> | string[],
  ) {
    if (!NAME.test(metric.name)) throw new Error(`invalid Prometheus metric name: ${metric.name}`);
    if (this.metrics.some((m) => m.name === metric.name))
      throw new Error(`Prometheus metric registered twice: ${metric.name}`);
    this.metrics.push({ name: metric.name, help: metric.help, type, render });
    return metric;
  }

  counter(name: string, help: string): Counter {
    const c = new Counter(name, help);
    return this.add(c, 'counter', () => c.render());
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    const h = new Histogram(name, help, buckets);
    return this.add(h, 'histogram', () => h.render());
  }

  /** A value read when Prometheus scrapes (e.g. a count from the database); a gauge unless said otherwise. */
  gauge(
    name: string,
    help: string,
    read: () => Promise<number> | number,
    type: 'gauge' | 'counter' = 'gauge',
  ): void {
    this.add({ name, help }, type, async () => [`${name} ${formatNumber(await read())}`]);
  }

  async render(): Promise<string> {
    const out: string[] = [];
    for (const m of this.metrics) {
      let lines: string[];
      try {
        lines = await m.render();
      } catch {
        // One failing gauge (say the database is down) must not hide every other metric.
        continue;
      }
      out.push(`# HELP ${m.name} ${m.help.replace(/\n/g, ' ')}`, `# TYPE ${m.name} ${m.type}`, ...lines);
    }
    return `${out.join('\n')}\n`;
  }

  /** Standard process metrics, so dashboards can relate load to memory and CPU. */
  registerProcessMetrics(): void {
    this.gauge(
      'process_resident_memory_bytes',
      'Resident memory size in bytes.',
      () => process.memoryUsage().rss,
    );
    this.gauge(
      'process_cpu_seconds_total',
      'Total user and system CPU time spent in seconds.',
      () => {
        const { user, system } = process.cpuUsage();
        return (user + system) / 1e6;
      },
      'counter',
    );
    const startedAt = Date.now() / 1000 - process.uptime();
    this.gauge(
      'process_start_time_seconds',
      'Start time of the process since the Unix epoch in seconds.',
      () => Math.round(startedAt),
    );
  }
}
