/**
 * A container's log as the Engine API sends it (GET /containers/{id}/logs), kept to its last bytes.
 * Without a TTY the engine multiplexes stdout and stderr into frames, each with an 8-byte header:
 * byte 0 the stream (0 stdin, 1 stdout, 2 stderr), bytes 1-3 zero, bytes 4-7 the payload's length
 * (big-endian); with a TTY it sends the raw bytes. Frames arrive split across chunks at any byte,
 * so the header is parsed incrementally; the tail is cut only on payload bytes, never on framing.
 * Reference: https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerAttach
 */

const HEADER_BYTES = 8

export class LogTail {
  private readonly maxBytes: number
  private readonly multiplexed: boolean
  private chunks: Buffer[] = []
  private kept = 0
  private header = Buffer.alloc(0)
  /** Payload bytes still due for the current frame (multiplexed only). */
  private frameLeft = 0
  /** Payload bytes seen in all, kept or not: the caller tells the reader what was cut. */
  total = 0

  /** `tty`: the container was created with a TTY (Config.Tty), so its log is not multiplexed. */
  constructor (maxBytes: number, tty: boolean) {
    this.maxBytes = maxBytes
    this.multiplexed = !tty
  }

  push (chunk: Buffer): void {
    if (!this.multiplexed) {
      this.keep(chunk)
      return
    }
    let at = 0
    while (at < chunk.length) {
      if (this.frameLeft === 0) {
        // The header, possibly completed across several chunks.
        const need = HEADER_BYTES - this.header.length
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + need)])
        at += Math.min(need, chunk.length - at)
        if (this.header.length < HEADER_BYTES) return
        this.frameLeft = this.header.readUInt32BE(4)
        this.header = Buffer.alloc(0)
        continue
      }
      const take = Math.min(this.frameLeft, chunk.length - at)
      this.keep(chunk.subarray(at, at + take))
      this.frameLeft -= take
      at += take
    }
  }

  /** The last `maxBytes` payload bytes (stdout and stderr interleaved as the engine sent them). */
  bytes (): Buffer {
    return Buffer.concat(this.chunks)
  }

  /** How many payload bytes were cut off the front to stay within the bound. */
  get dropped (): number {
    return this.total - this.kept
  }

  private keep (payload: Buffer): void {
    if (payload.length === 0) return
    this.total += payload.length
    // Copied: the caller's chunk may be a view into a buffer that is reused.
    this.chunks.push(Buffer.from(payload))
    this.kept += payload.length
    while (this.kept > this.maxBytes) {
      const first = this.chunks[0]
      if (first === undefined) break
      const excess = this.kept - this.maxBytes
      if (first.length <= excess) {
        this.chunks.shift()
        this.kept -= first.length
      } else {
        this.chunks[0] = first.subarray(excess)
        this.kept -= excess
      }
    }
  }
}
