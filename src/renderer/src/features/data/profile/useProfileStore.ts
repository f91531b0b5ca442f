import { create } from 'zustand'
import type { ProfileResult } from '../../../../../shared/api'
import { call } from '../../../api/client'
import { toUiError } from '../../../lib/errors'

type Target = { queryId: string } | { table: string }

interface ProfileState {
  /** What the shown profile describes, e.g. "table flights" or "query result". */
  subject: string | null
  key: string | null
  loading: boolean
  result: ProfileResult | null
  error: string | null
  profile: (target: Target, subject: string) => Promise<void>
}

let seq = 0
export const useProfileStore = create<ProfileState>((set) => ({
  subject: null,
  key: null,
  loading: false,
  result: null,
  error: null,
  profile: async (target, subject) => {
    const mine = ++seq
    const key = 'queryId' in target ? `q:${target.queryId}` : `t:${target.table}`
    set({ subject, key, loading: true, error: null, result: null })
    try {
      const result = await call('lake.profile', target)
      if (mine === seq) set({ result, loading: false })
    } catch (err) {
      if (mine === seq) set({ loading: false, error: toUiError(err).message })
    }
  }
}))
