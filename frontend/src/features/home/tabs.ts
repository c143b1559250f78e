/**
 * Tabs of the home screens and of the record types of issues 7 and 8, declared for the shell's
 * registry (app/tabs.ts). Each role gets at most five tabs: its home screen, its main record
 * types and 我的; the rest is reached from the home screen's links (MoreLinks.vue). Home comes right after the case list (the shell keeps the list first).
 */
import type { TabDef } from '../../app/tabs'

export const FICONS = {
  home: 'M12 3 2 12h3v8h6v-6h2v6h6v-8h3z',
  patrol: 'M12 2a7 7 0 0 0-7 7c0 5.3 7 13 7 13s7-7.7 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z',
  incident: 'M1 21h22L12 2zm12-3h-2v-2h2zm0-4h-2v-4h2z',
  households: 'M16 11a3 3 0 1 0-3-3 3 3 0 0 0 3 3zm-8 0a3 3 0 1 0-3-3 3 3 0 0 0 3 3zm0 2c-2.3 0-7 1.2-7 3.5V19h14v-2.5C15 14.2 10.3 13 8 13zm8 0c-.3 0-.6 0-1 .1 1.2.8 2 1.9 2 3.4V19h6v-2.5c0-2.3-4.7-3.5-7-3.5z',
  sixno: 'M12 1 3 5v6c0 5.5 3.8 10.7 9 12 5.2-1.3 9-6.5 9-12V5zm-2 16-4-4 1.4-1.4 2.6 2.6 6.6-6.6L18 9z',
  nominations: 'M12 17.3 18.2 21l-1.6-7 5.4-4.7-7.2-.6L12 2 9.2 8.7 2 9.3 7.4 14l-1.6 7z',
}

/** roles that have a home screen (HomePage.vue); the county admin has none (its dashboard is a tab) */
export const HOME_ROLES = ['grid_worker', 'mediator', 'village_admin', 'township_admin', 'township_viewer']

export const homeTabs: TabDef[] = [
  { path: '/home', icon: FICONS.home, labelKey: 'ftabs.home', order: 11, match: ['/grids'], roles: HOME_ROLES },
]

export const gridTabs: TabDef[] = [
  { path: '/patrols', icon: FICONS.patrol, labelKey: 'ftabs.patrols', order: 20, roles: ['grid_worker'] },
  { path: '/incidents', icon: FICONS.incident, labelKey: 'ftabs.incidents', order: 21, roles: ['grid_worker', 'mediator', 'village_admin'] },
  { path: '/households', icon: FICONS.households, labelKey: 'ftabs.households', order: 25, roles: ['village_admin'], match: ['/points'] },
]

export const sixnoTabs: TabDef[] = [
  { path: '/six-no', icon: FICONS.sixno, labelKey: 'ftabs.sixno', order: 30, roles: ['township_admin', 'township_viewer'] },
]

export const nominationTabs: TabDef[] = [
  // township roles open nominations from the home screen's links: their fifth tab is the dashboard (features/dashboard/tabs.ts)
]

/** The first screen of a role: grid workers and township users open on their home screen; the others (county admin
 * included: its dashboard with ECharts is over the 150 KB first-screen budget) on the case list. */
export function landingFor(role: string | undefined): string {
  return role === 'grid_worker' || role === 'township_admin' || role === 'township_viewer' ? '/home' : '/'
}
