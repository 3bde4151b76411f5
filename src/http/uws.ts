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

/** A uWS app's listening socket: listen once; close stops accepting, open connections stay served. */
export class ListenSocket {
  private socket: Uws.us_listen_socket | null = null;

  constructor(private readonly app: Uws.TemplatedApp) {}

  /** Resolves with the bound port (0 picks a free one). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${host}:${port}`));
        this.socket = socket;
        resolve(uws.us_socket_local_port(socket));
      });
    });
  }

  close(): void {
    if (this.socket) uws.us_listen_socket_close(this.socket);
    this.socket = null;
  }
}
