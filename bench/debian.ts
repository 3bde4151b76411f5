// Tools the bench and the tests take from Debian (wrk, prometheus): installed with apt-get when missing,
// after `apt-get update` only if the first try fails (stale or missing package lists).

import { spawnSync } from 'node:child_process';

export function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export function ensureDebianPackage(command: string, debianPackage = command): void {
  if (onPath(command)) return;
  console.log(`${command} is not on PATH: apt-get install -y ${debianPackage}`);
  const install = (): boolean =>
    spawnSync('apt-get', ['install', '-y', debianPackage], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  if (install() && onPath(command)) return;
  spawnSync('apt-get', ['update'], { stdio: 'ignore' });
  if (!install() || !onPath(command)) {
    throw new Error(`${command} is not installed and apt-get install -y ${debianPackage} failed: install the Debian package ${debianPackage} (as root: apt-get update && apt-get install -y ${debianPackage}) and run again`);
  }
}
