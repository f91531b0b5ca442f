import { lazy, type ComponentType, type LazyExoticComponent } from 'react'
// registers "Run as job…" in the command palette (the Jobs room itself loads on first use)
import '../jobs/commands'
// the main actions of every room, in the palette from anywhere
import '../commands/globalCommands'

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
  },
  {
    id: 'jobs',
    title: 'Jobs',
    glyph: 'J',
    component: lazy(() => import('../jobs/JobsRoom').then((m) => ({ default: m.JobsRoom })))
  },
  {
    id: 'models',
    title: 'Models',
    glyph: 'M',
    component: lazy(() => import('../models/ModelsRoom').then((m) => ({ default: m.ModelsRoom })))
  },
  {
    id: 'reviews',
    title: 'Reviews',
    glyph: 'R',
    component: lazy(() => import('../reviews/ReviewsRoom').then((m) => ({ default: m.ReviewsRoom })))
  },
  {
    id: 'endpoints',
    title: 'Endpoints',
    glyph: 'Ep',
    component: lazy(() => import('../endpoints/EndpointsRoom').then((m) => ({ default: m.EndpointsRoom })))
  },
  {
    id: 'builder',
    title: 'Builder',
    glyph: 'B',
    component: lazy(() => import('../builder/BuilderRoom').then((m) => ({ default: m.BuilderRoom })))
  }
]
