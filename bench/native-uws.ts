import * as path from 'node:path';
import type * as uws from 'uWebSockets.js';

/**
 * The native uWebSockets.js binary, never the package's JS fallback: a bench server measured on the
 * fallback would be a lie. `server` names the script in the error.
 */
export function loadNativeUws(server: string): typeof uws {
  const packageDir = path.dirname(require.resolve('uWebSockets.js/package.json'));
  const binaryName = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  const binary = path.join(packageDir, 'binaries', binaryName);
  try {
    return require(binary) as typeof uws;
  } catch (error) {
    console.error(`${server}: cannot load the native uWebSockets.js binary ${binary}: ${String(error)}`);
    process.exit(1);
  }
}

/** The port argument of a bench server script, or exit 2 with its usage. */
export function parsePort(arg: string | undefined, usage: string): number {
  const port = Number(arg);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return port;
}
