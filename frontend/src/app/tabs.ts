/**
 * The bottom tab bar: a small registry. Each feature declares its tabs in its own
 * `features/<name>/tabs.ts` and is listed once in FEATURE_TABS below (one import line per
 * feature keeps merges easy). App.vue draws the tabs the signed-in user may see, in `order`.
 *
 * A tab is visible when (roles is absent or lists the user's role) AND (permission is absent or
 * the user's `/me` permissions grant it).
 */
import type { Me } from '../api/types'
import type { Op } from './permissions'
import { mayOpen } from './routeAccess'

export interface TabDef {
  /** route path the tab opens; also the prefix that marks it active (see `match`) */
  path: string
  /** SVG path data for a 24×24 icon (inline, so it works offline; no icon font) */
  icon: string
  /** vue-i18n key of the label */
  labelKey: string
  /** position in the bar, ascending (mediation 10, grid 20, six-no 30, nominations 40, me 90) */
  order: number
  /** roles that see it; absent = every role */
  roles?: string[]
  /** a permission that must be granted; absent = none needed */
  permission?: { entity: string; op: Op }
  /** extra path prefixes that keep this tab active (e.g. detail pages) */
  match?: string[]
}

// ---- each feature's tabs (one line per feature) ----
import { mediationTabs } from '../features/mediation/tabs'
import { meTabs } from '../features/me/tabs'
import { homeTabs, gridTabs, sixnoTabs, nominationTabs } from '../features/home/tabs' // f78
import { dashboardTabs } from '../features/dashboard/tabs' // dashboard (i9)

const FEATURE_TABS: TabDef[][] = [
  mediationTabs,
  meTabs,
  homeTabs, gridTabs, sixnoTabs, nominationTabs, // f78: home screens, grid work, six-no, nominations
  dashboardTabs, // i9: township and county roles
]

export function allTabs(): TabDef[] {
  return FEATURE_TABS.flat().sort((a, b) => a.order - b.order)
}

export function tabVisible(tab: TabDef, user: Me | null | undefined): boolean {
  return mayOpen(tab, user)
}

export function visibleTabs(user: Me | null | undefined, tabs: TabDef[] = allTabs()): TabDef[] {
  return tabs.filter((t) => tabVisible(t, user))
}

/** The tab a route belongs to: the longest matching prefix. */
export function activeTab(path: string, tabs: TabDef[]): TabDef | undefined {
  let best: TabDef | undefined
  let bestLen = -1
  for (const t of tabs) {
    for (const p of [t.path, ...(t.match || [])]) {
      const hit = p === '/' ? path === '/' : path === p || path.startsWith(p.endsWith('/') ? p : p + '/')
      if (hit && p.length > bestLen) {
        best = t
        bestLen = p.length
      }
    }
  }
  return best
}

export { ICONS } from './icons'
