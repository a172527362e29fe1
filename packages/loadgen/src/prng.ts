/**
 * Seeded pseudo-random numbers. One root seed drives a run; every purpose (kills, delays, workload)
 * draws from its own stream derived from (seed, stream name), so that adding a draw in one purpose
 * never shifts the numbers another purpose sees, and `--seed` replays the same run.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from PractRand), seeded
 * with the 128-bit string hash cyrb128. Not cryptographic; never use it for secrets.
 */

/** Largest seed accepted on the command line (seeds are unsigned 32-bit integers). */
export const MAX_SEED = 0xffff_ffff

/** Outputs discarded after seeding: sfc32's first outputs are correlated with the seed words. */
const WARMUP_DRAWS = 15
const TWO_POW_32 = 4_294_967_296

export class Prng {
  readonly seed: number
  readonly stream: string
  private a: number
  private b: number
  private c: number
  private d: number

  constructor (seed: number, stream: string) {
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new RangeError(`seed must be an integer in 0..${MAX_SEED}, got ${seed}`)
    this.seed = seed
    this.stream = stream
    const [a, b, c, d] = cyrb128(`${seed}/${stream}`)
    this.a = a
    this.b = b
    this.c = c
    this.d = d
    for (let i = 0; i < WARMUP_DRAWS; i++) this.uint32()
  }

  /** A new independent stream named under this one, e.g. root.fork('kills'). */
  fork (name: string): Prng {
    return new Prng(this.seed, `${this.stream}/${name}`)
  }

  uint32 (): number {
    const t0 = (this.a + this.b) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.d = (this.d + 1) | 0
    const t = (t0 + this.d) | 0
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1). */
  next (): number {
    return this.uint32() / TWO_POW_32
  }

  /** Uniform integer in [lo, hi], both ends included. */
  int (lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi) throw new RangeError(`bad range [${lo}, ${hi}]`)
    const span = hi - lo + 1
    if (span > TWO_POW_32) throw new RangeError(`range [${lo}, ${hi}] is wider than 2^32`)
    return lo + Math.floor(this.next() * span)
  }

  pick<T> (items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list')
    return items[this.int(0, items.length - 1)] as T
  }

  /** A shuffled copy (Fisher-Yates); the input is left as it was. */
  shuffle<T> (items: readonly T[]): T[] {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      const tmp = out[i] as T
      out[i] = out[j] as T
      out[j] = tmp
    }
    return out
  }

  /** `count` distinct items chosen uniformly (fewer when the list is shorter). */
  sample<T> (items: readonly T[], count: number): T[] {
    return this.shuffle(items).slice(0, Math.max(0, count))
  }
}

export function createPrng (seed: number, stream = 'root'): Prng {
  return new Prng(seed, stream)
}

/** cyrb128 by bryc (public domain): four 32-bit words from a string. */
function cyrb128 (text: string): [number, number, number, number] {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= (h2 ^ h3 ^ h4)
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}
