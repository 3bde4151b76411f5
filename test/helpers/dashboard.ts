/** The PromQL of config/grafana/sluice.json, as Grafana would send it to Prometheus. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, type Json } from './server';

export const DASHBOARD_FILE = path.join(REPO_ROOT, 'config/grafana/sluice.json');

export function dashboard(): Json {
  return JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8'));
}

/** Every target's expression, with the dashboard variables as Grafana expands them (all jobs, 1m). */
export function dashboardQueries(): { panel: string; expr: string }[] {
  return dashboard().panels.flatMap((panel: Json) =>
    panel.targets.map((t: Json) => ({ panel: panel.title, expr: String(t.expr).replaceAll('$job', '.*').replaceAll('$__rate_interval', '1m') })),
  );
}
