import { create } from 'zustand'
import type { RegistryChangedEvent, ReviewQueueItem } from '../../../../shared/registry'
import { call } from '../../api/client'
import { useCommandStore } from '../commands/useCommandStore'
import { errorText } from '../models/widgets'

export type ReviewsTab = 'queue' | 'policies' | 'audit'

interface State {
  tab: ReviewsTab
  queue: ReviewQueueItem[]
  queueError: string | null
  loading: boolean
  /** The version whose review page is open. */
  open: { name: string; version: number } | null
  /** Bumped by refresh() so that the open review page refetches. */
  revision: number
  /** The latest registry change (any door, any user); the open review page checks whether it is about it. */
  lastChange: (RegistryChangedEvent & { seq: number }) | null
  setTab(t: ReviewsTab): void
  loadQueue(): Promise<void>
  openReview(name: string, version: number): void
  closeReview(): void
  refresh(): Promise<void>
  noteChange(e: RegistryChangedEvent): void
  /** Switches to the Reviews room on a version's review page (from another room). */
  reveal(name: string, version: number): void
}

let seq = 0

export const useReviewsStore = create<State>()((set, get) => ({
  tab: 'queue',
  queue: [],
  queueError: null,
  loading: false,
  open: null,
  revision: 0,
  lastChange: null,
  setTab: (tab) => set({ tab }),
  async loadQueue() {
    const my = ++seq
    set({ loading: true })
    try {
      const queue = await call('registry.reviews.queue', {})
      if (my === seq) set({ queue, queueError: null, loading: false })
    } catch (e) {
      if (my === seq) set({ queueError: errorText(e), loading: false })
    }
  },
  openReview: (name, version) => set({ open: { name, version }, tab: 'queue' }),
  closeReview: () => set({ open: null }),
  async refresh() {
    await get().loadQueue()
    set({ revision: get().revision + 1 })
  },
  noteChange: (e) => set({ lastChange: { ...e, seq: (get().lastChange?.seq ?? 0) + 1 } }),
  reveal(name, version) {
    get().openReview(name, version)
    useCommandStore.getState().run('room.reviews')
  }
}))
