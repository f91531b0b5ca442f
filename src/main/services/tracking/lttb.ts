/**
 * Largest-Triangle-Three-Buckets (Steinarsson 2013): keeps the first and last points and, from
 * each of `threshold - 2` equal buckets, the point that makes the largest triangle with the
 * point kept before it and the average of the next bucket. Returns indices into x/y, ascending.
 * x must be non-decreasing and y finite (drop NaN points before).
 */
export function lttb(x: ArrayLike<number>, y: ArrayLike<number>, threshold: number): Uint32Array {
  const n = x.length
  if (threshold >= n || threshold <= 2) {
    if (threshold >= n) return Uint32Array.from({ length: n }, (_, i) => i)
    return n === 0 ? new Uint32Array(0) : threshold <= 1 ? Uint32Array.of(0) : Uint32Array.of(0, n - 1)
  }
  const out = new Uint32Array(threshold)
  const every = (n - 2) / (threshold - 2)
  let a = 0
  out[0] = 0
  for (let i = 0; i < threshold - 2; i++) {
    // average of the next bucket
    let avgStart = Math.floor((i + 1) * every) + 1
    let avgEnd = Math.floor((i + 2) * every) + 1
    if (avgEnd > n) avgEnd = n
    if (avgStart >= avgEnd) avgStart = avgEnd - 1
    let avgX = 0
    let avgY = 0
    for (let j = avgStart; j < avgEnd; j++) {
      avgX += x[j]
      avgY += y[j]
    }
    const len = avgEnd - avgStart
    avgX /= len
    avgY /= len
    // this bucket
    const start = Math.floor(i * every) + 1
    const end = Math.floor((i + 1) * every) + 1
    const ax = x[a]
    const ay = y[a]
    let maxArea = -1
    let next = start
    for (let j = start; j < end; j++) {
      const area = Math.abs((ax - avgX) * (y[j] - ay) - (ax - x[j]) * (avgY - ay))
      if (area > maxArea) {
        maxArea = area
        next = j
      }
    }
    out[i + 1] = next
    a = next
  }
  out[threshold - 1] = n - 1
  return out
}
