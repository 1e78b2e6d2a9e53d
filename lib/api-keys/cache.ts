import "server-only";

/** The channel the database notifies (with an org id) when an org's keys or limits change. */
export const CREDENTIALS_CHANNEL = "smarfle_credentials";

interface Entry<Row> {
  row: Row;
  at: number;
}

/**
 * API keys as last read from the database, by hash, so that a request needs no query to learn
 * its key. It is trusted only while it hears the database: a trigger notifies every server on
 * `CREDENTIALS_CHANNEL` when a key or its org changes (migration 0009), and the entries of that
 * org are dropped. While the listening connection is down the cache is bypassed and emptied, so
 * a missed notification cannot leave a revoked key usable. Entries also age out, as a backstop.
 *
 * A lookup that was already in flight when a notification arrived may carry the old row; the
 * generation counter keeps such a row out of the cache.
 */
export class KeyCache<Row extends { orgId: string }> {
  private readonly entries = new Map<string, Entry<Row>>();
  private generation = 0;
  private live = false;

  constructor(
    private readonly maxEntries = 10_000,
    private readonly maxAgeMs = 60_000,
  ) {}

  get listening(): boolean {
    return this.live;
  }

  get size(): number {
    return this.entries.size;
  }

  setListening(live: boolean): void {
    this.live = live;
    this.invalidate();
  }

  get(hash: string, now = Date.now()): Row | undefined {
    if (!this.live) return undefined;
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (now - e.at > this.maxAgeMs) {
      this.entries.delete(hash);
      return undefined;
    }
    return e.row;
  }

  /** Call before the lookup; pass the result to `set`. */
  stamp(): number {
    return this.generation;
  }

  set(hash: string, row: Row, stamp: number, now = Date.now()): void {
    if (!this.live || stamp !== this.generation) return;
    this.entries.delete(hash);
    this.entries.set(hash, { row, at: now });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Drops the entries of one org, or all of them. */
  invalidate(orgId?: string): void {
    this.generation++;
    if (orgId === undefined) {
      this.entries.clear();
      return;
    }
    for (const [hash, e] of this.entries) if (e.row.orgId === orgId) this.entries.delete(hash);
  }
}
