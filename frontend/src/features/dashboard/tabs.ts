import type { TabDef } from '../../app/tabs'

/** bar chart icon (24×24) */
const CHART = 'M3 20h18v2H3zM5 10h3v8H5zm5.5-6h3v14h-3zM16 13h3v5h-3z'

/**
 * The dashboard (issue 9) is a tab for the township and county roles, whose main screen it is; a village
 * admin (five tabs already) opens it from the home screen's links. It is the one way to it (no header link).
 */
export const dashboardTabs: TabDef[] = [
  { path: '/dashboard', icon: CHART, labelKey: 'dash.open', order: 35, roles: ['township_admin', 'township_viewer', 'county_admin'] },
]
