import { describe, expect, it } from 'vitest'
import { formatLocation, parseLocation } from './location'

describe('app location in the URL hash', () => {
  it('round-trips room, notebook, experiment and job', () => {
    const l = { room: 'notebooks', notebook: 'sub dir/churn & co.ipynb', experiment: '3', job: 'j-1' }
    expect(parseLocation(formatLocation(l))).toEqual(l)
    expect(formatLocation({ room: 'data' })).toBe('#room=data')
  })
  it('ignores unknown keys and empty hashes', () => {
    expect(parseLocation('')).toEqual({})
    expect(parseLocation('#token=secret&room=jobs')).toEqual({ room: 'jobs' })
  })
})
