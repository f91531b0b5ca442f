import type { IncomingMessage } from 'node:http'

/** Reads a request body as UTF-8, refusing (and dropping the connection) past `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const parts: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        reject(new Error('Request body too large'))
        req.destroy()
      } else parts.push(c)
    })
    req.on('end', () => resolveBody(Buffer.concat(parts).toString('utf8')))
    req.on('error', reject)
  })
}
