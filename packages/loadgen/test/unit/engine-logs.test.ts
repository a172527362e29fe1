import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LogTail } from '../../src/driver/engine-logs.js'
import { createPrng } from '../../src/prng.js'

/** The engine's framing: an 8-byte header (stream, 0, 0, 0, length big-endian), then the payload. */
function frame (stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text)
  const header = Buffer.alloc(8)
  header.writeUInt8(stream, 0)
  header.writeUInt32BE(payload.length, 4)
  return Buffer.concat([header, payload])
}

/** `bytes` cut at random places (seeded), as a socket may deliver them. */
function split (bytes: Buffer, seed: number): Buffer[] {
  const prng = createPrng(seed)
  const chunks: Buffer[] = []
  for (let at = 0; at < bytes.length;) {
    const size = prng.int(1, 20)
    chunks.push(bytes.subarray(at, at + size))
    at += size
  }
  return chunks
}

const LINES = Array.from({ length: 50 }, (_, i) => `line ${i} ${'.'.repeat(i % 7)}\n`)
const STREAM = Buffer.concat(LINES.map((line, i) => frame(i % 3 === 0 ? 2 : 1, line)))

test('multiplexed: headers are removed wherever the chunks are cut, stdout and stderr stay in order', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const tail = new LogTail(1024 * 1024, false)
    for (const chunk of split(STREAM, seed)) tail.push(chunk)
    assert.equal(tail.bytes().toString(), LINES.join(''), `seed ${seed}`)
    assert.equal(tail.dropped, 0)
  }
})

test('an empty frame and a header split byte by byte', () => {
  const tail = new LogTail(100, false)
  const bytes = Buffer.concat([frame(1, ''), frame(2, 'a\n'), frame(1, 'b\n')])
  for (const byte of bytes) tail.push(Buffer.from([byte]))
  assert.equal(tail.bytes().toString(), 'a\nb\n')
})

test('bounded: only the last maxBytes payload bytes are kept, and the cut is counted', () => {
  const all = LINES.join('')
  const tail = new LogTail(100, false)
  for (const chunk of split(STREAM, 7)) tail.push(chunk)
  assert.equal(tail.bytes().toString(), all.slice(-100))
  assert.equal(tail.dropped, all.length - 100)
})

test('TTY: the bytes are the log as they are, bounded the same way', () => {
  const raw = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 3]), Buffer.from('not a header\n')])
  const tail = new LogTail(1000, true)
  for (const chunk of split(raw, 3)) tail.push(chunk)
  assert.deepEqual(tail.bytes(), raw)
  const short = new LogTail(5, true)
  short.push(raw)
  assert.equal(short.bytes().toString(), 'ader\n'.slice(-5))
})
