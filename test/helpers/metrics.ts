/** Reads one sample from a running Sluice's /metrics. */
import { request } from './http';

/** The value of `name{labels}` (labels matched exactly as rendered), or 0 when the sample is absent. */
export async function metricValue(baseUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = (await request(baseUrl, '/metrics')).text;
  const rendered = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const sample = rendered === '' ? name : `${name}{${rendered}}`;
  const line = text.split('\n').find((l) => l.startsWith(sample + ' '));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}
