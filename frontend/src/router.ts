import { createRouter, createWebHistory } from 'vue-router'
import CaseList from './features/mediation/CaseList.vue'
// in the main chunk: the sign-in page is the first screen of a new phone, painted without a second round of requests
import LoginPage from './features/auth/LoginPage.vue'
import { appState } from './app/session'
import { featureRoutes } from './features/home/routes' // f78: grid work, six-no, nominations, points, home
import { landingFor } from './features/home/tabs' // f78
import { creates, forRoles, mayOpen, type Access } from './app/routeAccess'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'cases', component: CaseList },
    { path: '/login', name: 'login', component: LoginPage, meta: { public: true } },
    { path: '/cases/new', name: 'new-case', component: () => import('./features/mediation/NewCase.vue'), meta: { tabs: false, ...creates('mediation_case') } },
    { path: '/cases/fix/:mutationId', name: 'fix-case', component: () => import('./features/mediation/NewCase.vue'), props: true, meta: { tabs: false } },
    { path: '/cases/:id/edit', name: 'edit-case', component: () => import('./features/mediation/NewCase.vue'), props: true, meta: { tabs: false, access: { permission: { entity: 'mediation_case', op: 'update' } } } },
    { path: '/cases/:id/agreement', name: 'agreement-doc', component: () => import('./features/mediation/AgreementDoc.vue'), props: true, meta: { tabs: false } },
    { path: '/cases/:id', name: 'case', component: () => import('./features/mediation/CaseDetail.vue'), props: true },
    { path: '/me', name: 'me', component: () => import('./features/me/MePage.vue') },
    { path: '/sync/log', name: 'sync-log', component: () => import('./features/sync/SyncLog.vue') },
    { path: '/sync', name: 'sync', component: () => import('./features/sync/SyncCenter.vue') },
    { path: '/conflicts/:id', name: 'conflict', component: () => import('./features/sync/ConflictView.vue'), props: true },
    // --- security (issue 11): user administration, for township and county admins
    { path: '/admin/users', name: 'admin-users', component: () => import('./features/admin/UsersAdmin.vue'), meta: { admin: true } },
    { path: '/dashboard', name: 'dashboard', component: () => import('./features/dashboard/DashboardPage.vue') }, // dashboard (i9)
    ...featureRoutes, // f78
    // county settings and code tables (county admin)
    { path: '/admin/settings', name: 'county-settings', component: () => import('./features/countySettings/CountySettings.vue'), meta: forRoles('county_admin') },
    { path: '/integrations', name: 'integrations', component: () => import('./features/integrations/IntegrationsPage.vue'), meta: forRoles('township_admin', 'county_admin') },
    { path: '/:pathMatch(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to, from) => {
  if (!to.meta.public && !appState.session) return { name: 'login' }
  if (to.name === 'login' && appState.session) return { name: 'cases' }
  if (to.meta.admin && !appState.session?.user.manages_users) return { name: 'cases' }
  // a screen the role may not use is not reachable by its address either (app/routeAccess.ts)
  if (appState.session && !mayOpen(to.meta.access as Access | undefined, appState.session.user)) return { name: 'cases' }
  // f78: grid workers and township users open on their home screen
  // (on opening the app or right after signing in; the 案件 tab still opens the list)
  if (to.name === 'cases' && appState.session && (from.name === undefined || from.name === 'login')) {
    const landing = landingFor(appState.session.user.role)
    if (landing !== '/') return { path: landing }
  }
  return true
})
