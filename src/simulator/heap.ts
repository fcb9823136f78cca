// A binary min-heap keyed by (time, insertion order): equal times come out
// in the order they went in, which keeps the simulation deterministic.

export class TimeHeap<T> {
  private keys: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  /** The smallest key, or Infinity when empty. */
  peekKey(): number {
    return this.keys.length ? this.keys[0]! : Infinity;
  }

  push(key: number, item: T): void {
    const k = this.keys;
    const s = this.seqs;
    const it = this.items;
    let i = it.length;
    const seq = this.seq++;
    k.push(key);
    s.push(seq);
    it.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p]! < key || (k[p] === key && s[p]! < seq)) break;
      k[i] = k[p]!;
      s[i] = s[p]!;
      it[i] = it[p]!;
      i = p;
    }
    k[i] = key;
    s[i] = seq;
    it[i] = item;
  }

  pop(): T | undefined {
    const it = this.items;
    if (it.length === 0) return undefined;
    const top = it[0]!;
    const k = this.keys;
    const s = this.seqs;
    const lastK = k.pop()!;
    const lastS = s.pop()!;
    const lastI = it.pop()!;
    const n = it.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (k[r]! < k[l]! || (k[r] === k[l] && s[r]! < s[l]!))) c = r;
        if (k[c]! > lastK || (k[c] === lastK && s[c]! > lastS)) break;
        k[i] = k[c]!;
        s[i] = s[c]!;
        it[i] = it[c]!;
        i = c;
      }
      k[i] = lastK;
      s[i] = lastS;
      it[i] = lastI;
    }
    return top;
  }
}
