/**
 * Decodes the PNGs headless Chromium writes (8-bit RGB or RGBA, not interlaced) into RGBA pixels,
 * so a test can look at a screenshot. Chunks are CRC-checked, IDAT inflated with node:zlib, and
 * each scanline unfiltered (None, Sub, Up, Average, Paeth): https://www.w3.org/TR/png/#9Filters
 * Any other kind of PNG throws rather than decoding wrongly.
 */
import { crc32, inflateSync } from 'node:zlib'

export interface Image {
  width: number
  height: number
  /** RGBA, row by row. */
  rgba: Uint8Array
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
/** A screenshot taller or wider than this is not one of ours; it bounds the memory a decode takes. */
const MAX_SIDE_PX = 16_384
const CHANNELS_BY_COLOR_TYPE: Readonly<Record<number, number>> = { 2: 3, 6: 4 }

interface Header {
  width: number
  height: number
  channels: number
}

function readHeader (data: Buffer): Header {
  const width = data.readUInt32BE(0)
  const height = data.readUInt32BE(4)
  const [bitDepth, colorType, compression, filter, interlace] = [8, 9, 10, 11, 12].map((i) => data[i])
  const channels = CHANNELS_BY_COLOR_TYPE[colorType ?? -1]
  if (bitDepth !== 8 || channels === undefined || compression !== 0 || filter !== 0 || interlace !== 0) {
    throw new Error(`unsupported PNG: bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace}`)
  }
  if (width < 1 || height < 1 || width > MAX_SIDE_PX || height > MAX_SIDE_PX) throw new Error(`PNG of ${width}x${height} px`)
  return { width, height, channels }
}

/** The header and the concatenated IDAT data, every chunk's CRC checked. */
function readChunks (png: Buffer): { header: Header, idat: Buffer } {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG (bad signature)')
  let header: Header | undefined
  const idat: Buffer[] = []
  for (let pos = 8; pos < png.length;) {
    const length = png.readUInt32BE(pos)
    const type = png.subarray(pos + 4, pos + 8)
    const data = png.subarray(pos + 8, pos + 8 + length)
    if (crc32(Buffer.concat([type, data])) !== png.readUInt32BE(pos + 8 + length)) throw new Error(`bad CRC in ${type.toString('latin1')}`)
    const name = type.toString('latin1')
    if (name === 'IHDR') header = readHeader(data)
    if (name === 'IDAT') idat.push(data)
    if (name === 'IEND') break
    pos += 12 + length
  }
  if (header === undefined || idat.length === 0) throw new Error('PNG without IHDR or IDAT')
  return { header, idat: Buffer.concat(idat) }
}

function paeth (a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c
}

/** Undo one scanline's filter in place; `prev` is the unfiltered line above (zeros for the first). */
function unfilter (type: number, line: Uint8Array, prev: Uint8Array, bpp: number): void {
  for (let i = 0; i < line.length; i++) {
    const a = i >= bpp ? line[i - bpp] ?? 0 : 0
    const b = prev[i] ?? 0
    const c = i >= bpp ? prev[i - bpp] ?? 0 : 0
    const x = line[i] ?? 0
    if (type === 0) continue
    else if (type === 1) line[i] = (x + a) & 0xff
    else if (type === 2) line[i] = (x + b) & 0xff
    else if (type === 3) line[i] = (x + ((a + b) >> 1)) & 0xff
    else if (type === 4) line[i] = (x + paeth(a, b, c)) & 0xff
    else throw new Error(`bad filter type ${type}`)
  }
}

export function decodePng (png: Buffer): Image {
  const { header, idat } = readChunks(png)
  const { width, height, channels } = header
  const raw = inflateSync(idat)
  const stride = width * channels
  if (raw.length !== height * (stride + 1)) throw new Error(`IDAT holds ${raw.length} bytes, expected ${height * (stride + 1)}`)
  const rgba = new Uint8Array(width * height * 4)
  let prev = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const line = new Uint8Array(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)))
    unfilter(raw[y * (stride + 1)] ?? 0, line, prev, channels)
    for (let x = 0; x < width; x++) {
      const out = (y * width + x) * 4
      rgba[out] = line[x * channels] ?? 0
      rgba[out + 1] = line[x * channels + 1] ?? 0
      rgba[out + 2] = line[x * channels + 2] ?? 0
      rgba[out + 3] = channels === 4 ? line[x * channels + 3] ?? 0 : 255
    }
    prev = line
  }
  return { width, height, rgba }
}
