import { createRouter, createWebHistory } from 'vue-router'
import CaseList from './features/mediation/CaseList.vue'
import { appState } from './app/session'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'cases', component: CaseList },
    { path: '/login', name: 'login', component: () => import('./features/auth/LoginPage.vue'), meta: { public: true } },
    { path: '/cases/new', name: 'new-case', component: () => import('./features/mediation/NewCase.vue'), meta: { tabs: false } },
    { path: '/cases/fix/:mutationId', name: 'fix-case', component: () => import('./features/mediation/NewCase.vue'), props: true, meta: { tabs: false } },
    { path: '/cases/:id/edit', name: 'edit-case', component: () => import('./features/mediation/NewCase.vue'), props: true, meta: { tabs: false } },
    { path: '/cases/:id/agreement', name: 'agreement-doc', component: () => import('./features/mediation/AgreementDoc.vue'), props: true, meta: { tabs: false } },
    { path: '/cases/:id', name: 'case', component: () => import('./features/mediation/CaseDetail.vue'), props: true },
    { path: '/me', name: 'me', component: () => import('./features/me/MePage.vue') },
    { path: '/sync/log', name: 'sync-log', component: () => import('./features/sync/SyncLog.vue') },
    { path: '/sync', name: 'sync', component: () => import('./features/sync/SyncCenter.vue') },
    { path: '/conflicts/:id', name: 'conflict', component: () => import('./features/sync/ConflictView.vue'), props: true },
    // --- security (issue 11): user administration, for township and county admins
    { path: '/admin/users', name: 'admin-users', component: () => import('./features/admin/UsersAdmin.vue'), meta: { admin: true } },
    { path: '/dashboard', name: 'dashboard', component: () => import('./features/dashboard/DashboardPage.vue') }, // dashboard (i9)
    { path: '/:pathMatch(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !appState.session) return { name: 'login' }
  if (to.name === 'login' && appState.session) return { name: 'cases' }
  if (to.meta.admin && !appState.session?.user.manages_users) return { name: 'cases' }
  return true
})
