import type { HttpRequest, HttpResponse } from 'uWebSockets.js';

/**
 * The address an event is attributed to: X-Client-IP, then the first X-Forwarded-For entry, but only
 * when the connection comes from a trusted proxy; otherwise the socket's own address, since anyone
 * can send those headers.
 */
export class ClientAddress {
  private readonly trusted: ReadonlySet<string>;

  constructor(trustedProxies: readonly string[]) {
    this.trusted = new Set(trustedProxies);
  }

  of(res: HttpResponse, req: HttpRequest): string {
    const socket = normalise(Buffer.from(res.getRemoteAddressAsText()).toString());
    if (!this.trusted.has(socket)) return socket;
    const clientIp = req.getHeader('x-client-ip').trim();
    if (clientIp !== '') return clientIp;
    const forwarded = req.getHeader('x-forwarded-for').split(',')[0]!.trim();
    return forwarded !== '' ? forwarded : socket;
  }
}

/** IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is reported as plain IPv4 so trusted lists stay simple. */
function normalise(address: string): string {
  if (!address.includes(':')) return address;
  const mapped = /^(?:0{1,4}:){5}ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}
