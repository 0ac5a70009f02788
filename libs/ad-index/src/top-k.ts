/**
 * Keeps the k best (score, id) pairs seen so far in a bounded min-heap: O(n log k) selection without
 * sorting the whole candidate set. Equal scores prefer the smaller id, so results are deterministic.
 */
export class TopK {
  private readonly scores: Float64Array;
  private readonly ids: Float64Array;
  private size = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`TopK capacity must be a non-negative integer, got ${capacity}`);
    }
    this.scores = new Float64Array(capacity);
    this.ids = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  /** The worst score kept once the heap is full, what a new pair has to beat; -Infinity before. */
  get floor(): number {
    return this.capacity > 0 && this.size === this.capacity ? this.scores[0] : -Infinity;
  }

  push(score: number, id: number): void {
    if (this.capacity === 0) return;
    if (this.size < this.capacity) {
      this.scores[this.size] = score;
      this.ids[this.size] = id;
      this.siftUp(this.size++);
      return;
    }
    if (!this.worse(this.scores[0], this.ids[0], score, id)) return;
    this.scores[0] = score;
    this.ids[0] = id;
    this.siftDown(0);
  }

  /** Drains the heap, best first. */
  drain(): { ids: number[]; scores: number[] } {
    const n = this.size;
    const ids = new Array<number>(n);
    const scores = new Array<number>(n);
    for (let i = n - 1; i >= 0; i--) {
      ids[i] = this.ids[0]!;
      scores[i] = this.scores[0]!;
      this.size--;
      if (this.size > 0) {
        this.scores[0] = this.scores[this.size]!;
        this.ids[0] = this.ids[this.size]!;
        this.siftDown(0);
      }
    }
    return { ids, scores };
  }

  private worse(sa: number, ia: number, sb: number, ib: number): boolean {
    return sa < sb || (sa === sb && ia > ib);
  }

  private siftUp(i: number): void {
    const s = this.scores;
    const d = this.ids;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(s[i], d[i], s[parent], d[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const s = this.scores;
    const d = this.ids;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < this.size && this.worse(s[l], d[l], s[worst], d[worst])) worst = l;
      if (r < this.size && this.worse(s[r], d[r], s[worst], d[worst])) worst = r;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }

  private swap(a: number, b: number): void {
    const s = this.scores[a];
    this.scores[a] = this.scores[b]!;
    this.scores[b] = s;
    const d = this.ids[a];
    this.ids[a] = this.ids[b]!;
    this.ids[b] = d;
  }
}

/**
 * The `k` best of `scores[0..count)`, best first, as positions: equal scores prefer the smaller
 * `idAt(position)`, as TopK does. For a scan that has every score at hand: one quickselect for the
 * k-th best score (on `scratch`, which it overwrites), then a sort of the few at or above it, which
 * costs less than a heap push per score. `-Infinity` marks a position to leave out (fewer than `k`
 * come back when fewer are left).
 */
export function selectTopK(
  scores: Float64Array,
  count: number,
  k: number,
  idAt: (position: number) => number,
  scratch: Float64Array,
): number[] {
  if (k <= 0 || count === 0) return [];
  k = Math.min(k, count);
  scratch.set(scores.subarray(0, count));
  const floor = kthLargest(scratch, count, k);
  const chosen: number[] = [];
  for (let i = 0; i < count; i++) if (scores[i] >= floor && scores[i] !== -Infinity) chosen.push(i);
  chosen.sort((a, b) => scores[b] - scores[a] || idAt(a) - idAt(b));
  if (chosen.length > k) chosen.length = k;
  return chosen;
}

/** Hoare quickselect: the k-th largest (1-based) of a[0..n), reordering a. */
function kthLargest(a: Float64Array, n: number, k: number): number {
  const target = k - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const x = a[i];
        a[i] = a[j];
        a[j] = x;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}
