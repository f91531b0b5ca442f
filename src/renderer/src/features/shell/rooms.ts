import { lazy, type ComponentType, type LazyExoticComponent } from 'react'

export interface Room {
  id: string
  title: string
  /** A one- or two-letter glyph for the collapsed nav. */
  glyph: string
  component: LazyExoticComponent<ComponentType>
}

/** The rooms of the workbench. Add notebooks, tracking, jobs… here. */
export const rooms: Room[] = [
  {
    id: 'data',
    title: 'Data',
    glyph: 'D',
    component: lazy(() => import('../data/DataRoom').then((m) => ({ default: m.DataRoom })))
  },
  {
    id: 'experiments',
    title: 'Experiments',
    glyph: 'E',
    component: lazy(() => import('../experiments/ExperimentsRoom').then((m) => ({ default: m.ExperimentsRoom })))
  },
  {
    id: 'notebooks',
    title: 'Notebooks',
    glyph: 'N',
    component: lazy(() => import('../notebooks/NotebooksRoom').then((m) => ({ default: m.NotebooksRoom })))
  }
]
