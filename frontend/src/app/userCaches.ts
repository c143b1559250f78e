/**
 * What the app keeps in localStorage for the signed-in person besides their database: the last dashboard (shown
 * offline, with names) and the grids of their scope. Forgotten when they sign out — even offline, at once: these are
 * views, nothing waits in them — or when their session is revoked, so the next person on a shared phone or a 乡镇 PC
 * finds none of it.
 */
export const GRIDS_KEY = 'cunzhi.grids'

export function dashboardKey(username: string): string {
  return `cunzhi.dashboard.${username}`
}

export function forgetUserCaches(username: string | undefined): void {
  if (username) localStorage.removeItem(dashboardKey(username))
  localStorage.removeItem(GRIDS_KEY)
}
