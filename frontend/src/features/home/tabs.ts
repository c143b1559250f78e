/**
 * The tab bar of each role: its home screen and its record types (issue 7: "every role gets its
 * home screen, and a tab bar to its record types"). Written here, generic, while the shell's
 * shared tab registry (app/tabs.ts, i12-app) is not there yet; it moves there when it lands.
 */
export interface Tab {
  to: string
  label: string // i18n key
  icon: string // an SVG path (24×24)
  match: RegExp
}

const I = {
  home: 'M12 3 2 12h3v8h6v-6h2v6h6v-8h3z',
  cases: 'M4 4h16v2H4zm0 4h16v12H4zm3 3v2h10v-2zm0 4v2h7v-2z',
  patrol: 'M12 2a7 7 0 0 0-7 7c0 5.3 7 13 7 13s7-7.7 7-13a7 7 0 0 0-7-7zm0 9.5A2.5 2.5 0 1 1 12 6.5a2.5 2.5 0 0 1 0 5z',
  incident: 'M1 21h22L12 2zm12-3h-2v-2h2zm0-4h-2v-4h2z',
  households: 'M16 11a3 3 0 1 0-3-3 3 3 0 0 0 3 3zm-8 0a3 3 0 1 0-3-3 3 3 0 0 0 3 3zm0 2c-2.3 0-7 1.2-7 3.5V19h14v-2.5C15 14.2 10.3 13 8 13zm8 0c-.3 0-.6 0-1 .1 1.2.8 2 1.9 2 3.4V19h6v-2.5c0-2.3-4.7-3.5-7-3.5z',
  sixno: 'M12 1 3 5v6c0 5.5 3.8 10.7 9 12 5.2-1.3 9-6.5 9-12V5zm-2 16-4-4 1.4-1.4 2.6 2.6 6.6-6.6L18 9z',
  nominations: 'M12 17.3 18.2 21l-1.6-7 5.4-4.7-7.2-.6L12 2 9.2 8.7 2 9.3 7.4 14l-1.6 7z',
  more: 'M6 10a2 2 0 1 0 2 2 2 2 0 0 0-2-2zm6 0a2 2 0 1 0 2 2 2 2 0 0 0-2-2zm6 0a2 2 0 1 0 2 2 2 2 0 0 0-2-2z',
  sync: 'M12 4V1L8 5l4 4V6a6 6 0 0 1 6 6 5.9 5.9 0 0 1-.7 2.8l1.5 1.5A8 8 0 0 0 12 4zm0 14a6 6 0 0 1-6-6 5.9 5.9 0 0 1 .7-2.8L5.2 7.7A8 8 0 0 0 12 20v3l4-4-4-4z',
}

const home: Tab = { to: '/home', label: 'tabs.home', icon: I.home, match: /^\/home/ }
const cases: Tab = { to: '/', label: 'tabs.cases', icon: I.cases, match: /^\/($|cases)/ }
const patrols: Tab = { to: '/patrols', label: 'tabs.patrols', icon: I.patrol, match: /^\/patrols/ }
const incidents: Tab = { to: '/incidents', label: 'tabs.incidents', icon: I.incident, match: /^\/incidents/ }
const households: Tab = { to: '/households', label: 'tabs.households', icon: I.households, match: /^\/(households|points)/ }
const sixno: Tab = { to: '/six-no', label: 'tabs.sixno', icon: I.sixno, match: /^\/six-no/ }
const nominations: Tab = { to: '/nominations', label: 'tabs.nominations', icon: I.nominations, match: /^\/nominations/ }
const more: Tab = { to: '/more', label: 'tabs.more', icon: I.more, match: /^\/(more|grids|sync)/ }
const sync: Tab = { to: '/sync', label: 'tabs.sync', icon: I.sync, match: /^\/(sync|conflicts)/ }

export function tabsFor(role: string | undefined): Tab[] {
  switch (role) {
    case 'grid_worker': return [home, patrols, incidents, cases, sync]
    case 'mediator': return [home, cases, incidents, sync]
    case 'village_admin': return [home, cases, incidents, households, more]
    case 'township_admin': return [home, sixno, nominations, cases, more]
    case 'township_viewer': return [home, cases, sixno, more]
    default: return [home, cases, sync]
  }
}

/** The first screen of a role: grid workers and township users open on their home screen. */
export function landingFor(role: string | undefined): string {
  return role === 'grid_worker' || role === 'township_admin' || role === 'township_viewer' ? '/home' : '/'
}
