import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface PackageInfo {
  name: string;
  version: string;
  description: string;
  home: string;
}

/** name/version/description/home from package.json, for /_info and the OpenAPI document. */
export function packageInfo(): PackageInfo {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as Record<string, string>;
  return { name: pkg.name ?? 'sluice', version: pkg.version ?? '0.0.0', description: pkg.description ?? '', home: pkg.homepage ?? '' };
}
