/** Reads samples from a running Sluice's /metrics. */
import { request } from './http';
import { waitFor } from './server';

/** One scrape: the exposition text, with lookups by sample. */
export class Scrape {
  constructor(readonly text: string) {}

  /** The value of `name{labels}` (labels matched exactly as rendered, in order), or 0 when absent. */
  value(name: string, labels: Record<string, string> = {}): number {
    const rendered = Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    const sample = rendered === '' ? name : `${name}{${rendered}}`;
    const line = this.text.split('\n').find((l) => l.startsWith(sample + ' '));
    return line === undefined ? 0 : Number(line.slice(sample.length + 1));
  }

  /** The declared type (`# TYPE name type`), or undefined when the metric is not exported. */
  type(name: string): string | undefined {
    return new RegExp(`^# TYPE ${name} (\\w+)$`, 'm').exec(this.text)?.[1];
  }

  /** Every label set rendered for `name`, e.g. `stream="test.event",outcome="success"`. */
  labelSets(name: string): string[] {
    const re = new RegExp(`^${name}\\{([^}]*)\\} `, 'gm');
    return [...this.text.matchAll(re)].map((m) => m[1]!);
  }
}

export async function scrape(baseUrl: string): Promise<Scrape> {
  return new Scrape((await request(baseUrl, '/metrics')).text);
}

export async function metricValue(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  return (await scrape(baseUrl)).value(name, labels);
}

/** Scrapes until `done` holds for a scrape (outcomes counted after the answer land a little later); fails after 5 s. */
export async function scrapeUntil(url: string, what: string, done: (m: Scrape) => boolean): Promise<Scrape> {
  const settled = await waitFor(what, 5000, async () => {
    const m = await scrape(url);
    return done(m) ? m : null;
  });
  return settled!;
}
