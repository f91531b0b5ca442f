/**
 * A WebSocket reply that carries bytes (an Arrow page) goes as one binary frame:
 *
 *   [u32 LE: header length][header: UTF-8 JSON, padded with spaces to a multiple of 8][blob][blob]…
 *
 * The header is `{id, result, blobs}`: `id` links the frame to its request, `result` is the reply with
 * each Uint8Array replaced by null, and `blobs` lists where each one goes (`path`) and its byte length.
 * Blobs start 8-byte aligned, so the reader's typed arrays view the received buffer without copying.
 */

interface BlobRef {
  path: string[]
  length: number
}

const MAX_DEPTH = 3

function findBlobs(value: unknown, path: string[], out: { path: string[]; bytes: Uint8Array }[]): unknown {
  if (value instanceof Uint8Array) {
    out.push({ path, bytes: value })
    return null
  }
  if (path.length >= MAX_DEPTH || value === null || typeof value !== 'object' || Array.isArray(value)) return value
  let copy: Record<string, unknown> | null = null
  for (const [k, v] of Object.entries(value)) {
    const r = findBlobs(v, [...path, k], out)
    if (r !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = r
  }
  return copy ?? value
}

const pad8 = (n: number) => (n + 7) & ~7

/** The binary frame for a reply holding Uint8Arrays (in objects, up to 3 levels deep), or null when it holds none. */
export function packReply(id: number, result: unknown): Uint8Array | null {
  const found: { path: string[]; bytes: Uint8Array }[] = []
  const stripped = findBlobs(result, [], found)
  if (found.length === 0) return null
  const blobs: BlobRef[] = found.map((f) => ({ path: f.path, length: f.bytes.byteLength }))
  const json = new TextEncoder().encode(JSON.stringify({ id, result: stripped, blobs }))
  const headerEnd = pad8(4 + json.length)
  let total = headerEnd
  for (const f of found) total = pad8(total + f.bytes.byteLength)
  const frame = new Uint8Array(total)
  new DataView(frame.buffer).setUint32(0, headerEnd - 4, true)
  frame.fill(0x20, 4, headerEnd)
  frame.set(json, 4)
  let at = headerEnd
  for (const f of found) {
    frame.set(f.bytes, at)
    at = pad8(at + f.bytes.byteLength)
  }
  return frame
}

/** Reads a frame made by packReply: the reply with its Uint8Arrays back in place (views of `data`). */
export function unpackReply(data: ArrayBuffer | Uint8Array): { id: number; result: unknown } {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data)
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true)
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLen))) as {
    id: number
    result: unknown
    blobs: BlobRef[]
  }
  let at = 4 + headerLen
  for (const b of header.blobs) {
    const view = bytes.subarray(at, at + b.length)
    at = pad8(at + b.length)
    if (b.path.length === 0) header.result = view
    else {
      let target = header.result as Record<string, unknown>
      for (const k of b.path.slice(0, -1)) target = target[k] as Record<string, unknown>
      target[b.path[b.path.length - 1]] = view
    }
  }
  return { id: header.id, result: header.result }
}
