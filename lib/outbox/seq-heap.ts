/**
 * A binary min-heap of sequence numbers: the outbox's line of entries waiting
 * to be handed out. Appends arrive in increasing order, but a released entry
 * goes back in front of newer ones, so a plain queue is not enough; a heap
 * keeps both at O(log n) without shifting 100,000-element arrays.
 */
export class SeqHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): number | undefined {
    return this.items[0];
  }

  push(seq: number): void {
    const items = this.items;
    items.push(seq);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as number;
      if (p <= seq) break;
      items[i] = p;
      i = parent;
    }
    items[i] = seq;
  }

  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    const n = items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (items[right] as number) < (items[left] as number) ? right : left;
      const c = items[child] as number;
      if (c >= last) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}
