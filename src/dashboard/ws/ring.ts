// A bounded ring of recently published items, for resyncs: fixed capacity
// in items and a cap in bytes (the oldest go first). Seqs are consecutive,
// so finding "everything after seq n" is an index computation.
export interface RingItem {
  seq: number;
  /** ISO time of publication */
  ts: string;
  topics: string[];
  /** the item's data, already JSON */
  data: string;
}

export class Ring {
  private readonly items: (RingItem | undefined)[];
  private start = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes: number,
  ) {
    this.items = new Array<RingItem | undefined>(capacity);
  }

  push(item: RingItem): void {
    if (this.count === this.capacity) this.dropOldest();
    this.items[(this.start + this.count) % this.capacity] = item;
    this.count++;
    this.bytes += item.data.length;
    while (this.bytes > this.maxBytes && this.count > 1) this.dropOldest();
  }

  private dropOldest(): void {
    const old = this.items[this.start];
    this.items[this.start] = undefined;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
    if (old) this.bytes -= old.data.length;
  }

  /** seq of the oldest item held, or undefined when empty */
  get oldestSeq(): number | undefined {
    return this.count === 0 ? undefined : this.items[this.start]!.seq;
  }

  get size(): number {
    return this.count;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Items with seq > after, oldest first; undefined when some of them are no longer held. */
  since(after: number): RingItem[] | undefined {
    const oldest = this.oldestSeq;
    if (oldest === undefined) return [];
    if (after < oldest - 1) return undefined;
    const out: RingItem[] = [];
    for (let i = Math.max(0, after - oldest + 1); i < this.count; i++) out.push(this.items[(this.start + i) % this.capacity]!);
    return out;
  }
}
