/// <reference lib="webworker" />
/**
 * The service worker caches the app, never the data: it precaches the built files and
 * answers navigations with index.html. Data lives in IndexedDB. A waiting version is
 * activated only when the page asks (the person tapped "update").
 * Background Sync: on `sync` it asks an open page to sync, or pushes itself when none is open.
 */
import { precacheAndRoute, cleanupOutdatedCaches, createHandlerBoundToURL } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'
import { clientsClaim } from 'workbox-core'
import { runBackgroundSync } from './backgroundSync'

declare let self: ServiceWorkerGlobalScope

precacheAndRoute(self.__WB_MANIFEST)
cleanupOutdatedCaches()
// The first install takes control of the open page at once, so lazy screens load offline
// without a reload. Later versions still wait for the person's tap (SKIP_WAITING below).
clientsClaim()

registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/api\//, /^\/docs/, /^\/openapi\.json/, /^\/notice\//, /^\/points\/\d{12}$/] }))

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') void self.skipWaiting()
})

self.addEventListener('sync', (event: any) => {
  if (event.tag === 'cunzhi-sync') event.waitUntil(onSync())
})

async function onSync() {
  const clients = await self.clients.matchAll({ type: 'window' })
  if (clients.length) {
    clients.forEach((c) => c.postMessage({ type: 'cunzhi-sync' }))
    return
  }
  await runBackgroundSync()
}
