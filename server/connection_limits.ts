/**
 * Caps on open connections, broker-wide and per client address (Kafka's
 * max.connections and max.connections.per.ip): a connection over a cap is
 * closed as soon as it is accepted, so that one client, or a flood of them,
 * cannot hold the broker's memory and file descriptors.
 */

/** Admits and releases connections by client address; 0 means no cap. */
export class ConnectionLimits {
  private open = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(readonly maxConnections: number, readonly maxPerAddress: number) {}

  /** Counts the connection in and returns null, or says which cap it is over (and counts nothing). */
  admit(address: string): string | null {
    if (this.maxConnections > 0 && this.open >= this.maxConnections) {
      return `${this.open} connections are open (--max-connections ${this.maxConnections})`;
    }
    const mine = this.perAddress.get(address) ?? 0;
    if (this.maxPerAddress > 0 && mine >= this.maxPerAddress) {
      return `${address} has ${mine} connections open (--max-connections-per-ip ${this.maxPerAddress})`;
    }
    this.open++;
    this.perAddress.set(address, mine + 1);
    return null;
  }

  /** Counts an admitted connection out. */
  release(address: string): void {
    this.open--;
    const mine = (this.perAddress.get(address) ?? 1) - 1;
    if (mine <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, mine);
  }

  get size(): number {
    return this.open;
  }
}
