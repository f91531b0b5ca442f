import type { IncomingMessage } from 'node:http'

/** A request body past the door's limit; the door answers 413 in its own error shape, then closes. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body too large (limit ${Math.round(limit / (1024 * 1024))} MiB)`)
    this.name = 'BodyTooLargeError'
  }
}

/**
 * Reads a request body as UTF-8. Past `limit` bytes the rest is read and dropped (so the client, still
 * sending, reads the answer instead of a connection reset) and the promise rejects with
 * `BodyTooLargeError` once the request ends; a client that keeps sending past `drainLimit` more is
 * answered at once and its connection dropped after the answer.
 */
export function readBody(req: IncomingMessage, limit: number, drainLimit = Math.max(limit, 64 * 1024 * 1024)): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const parts: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= limit) return void parts.push(c)
      if (!over) {
        over = true
        parts.length = 0
      }
      if (size > limit + drainLimit) {
        req.removeAllListeners('data')
        req.pause()
        reject(new BodyTooLargeError(limit))
      }
    })
    req.on('end', () => (over ? reject(new BodyTooLargeError(limit)) : resolveBody(Buffer.concat(parts).toString('utf8'))))
    req.on('error', reject)
  })
}

/** Deepest nesting accepted in a JSON document at any door (JSON.parse and JSON.stringify recurse). */
export const MAX_JSON_DEPTH = 256

/** JSON nested deeper than MAX_JSON_DEPTH, refused before anything recurses over it. */
export class JsonTooDeepError extends Error {
  constructor(readonly maxDepth: number) {
    super(`JSON nested deeper than ${maxDepth} levels`)
    this.name = 'JsonTooDeepError'
  }
}

/** True when `text` nests arrays/objects deeper than `max`: one pass over the characters, no recursion. */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c /* \ */) i++
      else if (c === 0x22 /* " */) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--
  }
  return false
}

/** JSON.parse behind the depth check. */
export function parseJson(text: string, max = MAX_JSON_DEPTH): unknown {
  if (jsonTooDeep(text, max)) throw new JsonTooDeepError(max)
  return JSON.parse(text)
}
