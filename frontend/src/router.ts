import { createRouter, createWebHistory } from 'vue-router'
import CaseList from './features/mediation/CaseList.vue'
import { appState } from './app/session'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'cases', component: CaseList },
    { path: '/login', name: 'login', component: () => import('./features/auth/LoginPage.vue'), meta: { public: true } },
    { path: '/cases/new', name: 'new-case', component: () => import('./features/mediation/NewCase.vue') },
    { path: '/cases/:id', name: 'case', component: () => import('./features/mediation/CaseDetail.vue'), props: true },
    { path: '/sync', name: 'sync', component: () => import('./features/sync/SyncCenter.vue') },
    { path: '/conflicts/:id', name: 'conflict', component: () => import('./features/sync/ConflictView.vue'), props: true },
    { path: '/integrations', name: 'integrations', component: () => import('./features/integrations/IntegrationsPage.vue') },
    { path: '/:pathMatch(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (!to.meta.public && !appState.session) return { name: 'login' }
  if (to.name === 'login' && appState.session) return { name: 'cases' }
  return true
})
