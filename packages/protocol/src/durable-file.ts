/**
 * Durable small files: write a temporary file, fsync it, rename it over the target, fsync the
 * directory. A crash leaves either the old or the new content, never a torn or empty file.
 */
import { open, rename, readFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'

export async function writeFileDurable (path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}`
  const file = await open(tmp, 'w', mode)
  try {
    await file.writeFile(data)
    await file.sync()
  } finally {
    await file.close()
  }
  await rename(tmp, path)
  await fsyncDir(dirname(path))
}

export async function fsyncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** The file's content, or undefined when it does not exist. Other errors are thrown. */
export async function readFileIfExists (path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}
