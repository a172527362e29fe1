/**
 * A double-ended queue on a growable ring buffer. Admission queues pop from the old end (FIFO,
 * and when shedding the stalest waiters) and from the new end (LIFO while overloaded); an array's
 * shift() is O(n) in the worst case, which the naive profile's million-entry queue would feel.
 */
export class Deque<T> {
  private items: Array<T | undefined>
  private head = 0
  private size = 0

  constructor (initialCapacity = 16) {
    this.items = new Array<T | undefined>(Math.max(2, initialCapacity))
  }

  get length (): number {
    return this.size
  }

  pushBack (item: T): void {
    if (this.size === this.items.length) this.grow()
    this.items[(this.head + this.size) % this.items.length] = item
    this.size++
  }

  /** The oldest item, without removing it. */
  peekFront (): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head]
  }

  popFront (): T | undefined {
    if (this.size === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.size--
    return item
  }

  popBack (): T | undefined {
    if (this.size === 0) return undefined
    const index = (this.head + this.size - 1) % this.items.length
    const item = this.items[index]
    this.items[index] = undefined
    this.size--
    return item
  }

  private grow (): void {
    const next = new Array<T | undefined>(this.items.length * 2)
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) % this.items.length]
    this.items = next
    this.head = 0
  }
}
