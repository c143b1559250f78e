import { createApp } from 'vue'
performance.mark('cz-script')
import './styles.css'
import App from './App.vue'
import { router } from './router'
import { i18n, setLang, savedLang, currentLang } from './i18n'
import { configureClient } from './api/client'
import { appState, token } from './app/session'
import { startUser } from './app/runtime'
import { installSignOutQueue } from './features/auth/signOut'

(window as any).__CUNZHI_VERSION__ = __APP_VERSION__
configureClient({ getToken: token, getLanguage: currentLang })

async function boot() {
  await setLang(savedLang()) // zh-CN at once; English first loads its chunk, so the first screen is drawn in it
  if (appState.session) {
    // opens this user's database at once (synchronously); the rest runs while the app mounts
    startUser(appState.session).catch((e) => console.error('could not open the local database', e))
  }
  const app = createApp(App)
  app.use(i18n)
  app.use(router)
  app.mount('#app')
  installSignOutQueue() // sign-outs made offline: revoke the session and wipe the data when the network is back
  performance.mark('cz-mounted')
}

void boot()
