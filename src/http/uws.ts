import path from 'node:path';
import type * as Uws from 'uWebSockets.js';

/**
 * uWebSockets.js, native binary only. The package's own loader silently falls back to a slow
 * pure-JS implementation when the binary does not load; Sluice refuses to run on that.
 */
function loadNative(): typeof Uws {
  const dir = path.join(path.dirname(require.resolve('uWebSockets.js/package.json')), 'binaries');
  const file = path.join(dir, `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    return require(file) as typeof Uws;
  } catch (err) {
    throw new Error(`uWebSockets.js native binary ${file} cannot be loaded (${(err as Error).message}); Sluice does not run on the JS fallback`);
  }
}

export const uws = loadNative();
