/**
 * The routes of issues 7 and 8 (grid work, six-no, nominations, points) and the home screens.
 * Every page loads when opened (route-level dynamic imports), so the first screen stays small.
 */
import type { RouteRecordRaw } from 'vue-router'
import { creates, forRoles } from '../../app/routeAccess'

export const featureRoutes: RouteRecordRaw[] = [
  { path: '/home', name: 'home', component: () => import('./HomePage.vue') },
  { path: '/patrols', name: 'patrols', component: () => import('../grid/PatrolList.vue') },
  { path: '/patrols/new', name: 'patrol-start', component: () => import('../grid/PatrolStart.vue'), meta: creates('patrol') },
  { path: '/patrols/:id', name: 'patrol', component: () => import('../grid/PatrolPage.vue'), props: true },
  { path: '/incidents', name: 'incidents', component: () => import('../grid/IncidentList.vue') },
  { path: '/incidents/new', name: 'incident-new', component: () => import('../grid/IncidentNew.vue'), meta: { tabs: false, ...creates('incident') } },
  { path: '/incidents/:id', name: 'incident', component: () => import('../grid/IncidentDetail.vue'), props: true },
  { path: '/households', name: 'households', component: () => import('../grid/HouseholdList.vue') },
  { path: '/households/import', name: 'households-import', component: () => import('../grid/HouseholdImport.vue'), meta: creates('household') },
  { path: '/grids', name: 'grids', component: () => import('../grid/GridAdmin.vue'), meta: forRoles('village_admin', 'township_admin') },
  { path: '/six-no', name: 'six-no', component: () => import('../sixno/SixNoList.vue') },
  { path: '/six-no/:village/:year', name: 'six-no-report', component: () => import('../sixno/SixNoReport.vue'), props: true },
  { path: '/nominations', name: 'nominations', component: () => import('../nominations/NominationList.vue') },
  { path: '/nominations/new', name: 'nomination-new', component: () => import('../nominations/NominationNew.vue'), meta: { tabs: false, ...creates('nomination') } },
  // a refused nomination or points entry, fixed in its form and sent again (finding 1)
  { path: '/nominations/fix/:mutationId', name: 'nomination-fix', component: () => import('../nominations/NominationNew.vue'), props: true, meta: { tabs: false } },
  { path: '/points/fix/:mutationId', name: 'points-fix', component: () => import('../points/PointsNew.vue'), props: true, meta: { tabs: false } },
  { path: '/nominations/:id', name: 'nomination', component: () => import('../nominations/NominationDetail.vue'), props: true },
  { path: '/points', name: 'points', component: () => import('../points/PointsPage.vue') },
  { path: '/points/new', name: 'points-new', component: () => import('../points/PointsNew.vue'), meta: { tabs: false, ...creates('points_entry') } },
  { path: '/points/households/:id', name: 'points-household', component: () => import('../points/PointsHousehold.vue'), props: true },
]
