/** Why a connection was refused a slot. */
export type LimitHit = 'max_clients' | 'max_clients_per_ip';

/**
 * Concurrent-connection limits (DESIGN.md §10): in total, and per client address, since one runaway
 * client opening connections in a loop must not take every consumer slot.
 */
export class ClientLimits {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(
    private readonly maxClients: number,
    private readonly maxPerIp: number,
  ) {}

  /** Takes a slot for `ip`; the returned release gives it back (only the first call counts). */
  acquire(ip: string): { readonly release: () => void } | LimitHit {
    if (this.total >= this.maxClients) return 'max_clients';
    const held = this.perIp.get(ip) ?? 0;
    if (held >= this.maxPerIp) return 'max_clients_per_ip';
    this.total++;
    this.perIp.set(ip, held + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const left = (this.perIp.get(ip) ?? 1) - 1;
        if (left === 0) this.perIp.delete(ip);
        else this.perIp.set(ip, left);
      },
    };
  }
}
