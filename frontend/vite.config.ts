import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'
import { VitePWA } from 'vite-plugin-pwa'
import VueI18nPlugin from '@intlify/unplugin-vue-i18n/vite'
import { fileURLToPath } from 'node:url'

/**
 * Vant's icon font is inlined as woff2, but its @font-face also names a CDN woff as a fallback. The app's CSP
 * (font-src 'self' data:) refuses it and Chromium logs an error on every page that draws an icon (Lighthouse,
 * best practices: errors in the console, a plain-http URL); the app never reaches outside its own server, so
 * the fallback is dropped from the CSS at build time.
 */
function vantIconFontInlineOnly() {
  return {
    name: 'cunzhi-vant-icon-font-inline-only',
    enforce: 'pre' as const,
    transform(code: string, id: string) {
      if (!id.split('?')[0].endsWith('.css') || !code.includes('at.alicdn.com')) return null
      return { code: code.replace(/,\s*url\((?:https?:)?\/\/at\.alicdn\.com[^)]*\)\s*format\(["']woff["']\)/g, ''), map: null }
    },
  }
}

/**
 * The entry's own CSS (a few KB: App, the case list, the sign-in page) goes into index.html as a <style>, so the
 * app shell and the first screen paint without waiting for a render-blocking stylesheet request (Lighthouse FCP on
 * a slow network). The CSP allows inline styles (style-src 'unsafe-inline'), not inline scripts.
 */
function inlineEntryCss() {
  return {
    name: 'cunzhi-inline-entry-css',
    enforce: 'post' as const,
    transformIndexHtml: {
      order: 'post' as const,
      handler(html: string, ctx: { bundle?: Record<string, any> }) {
        if (!ctx.bundle) return html // dev server: Vite injects the CSS itself
        return html.replace(/<link rel="stylesheet"[^>]*href="\/(assets\/[^"]+\.css)"[^>]*>/g, (tag, file) => {
          const asset = ctx.bundle![file]
          if (!asset || asset.type !== 'asset') return tag
          return `<style>${String(asset.source).replace(/<\/style/gi, '<\\/style')}</style>`
        })
      },
    },
  }
}

// APP_VERSION lets two builds differ (the e2e update-prompt test builds twice).
const appVersion = process.env.CUNZHI_APP_VERSION || new Date().toISOString()

export default defineConfig({
  define: {
    __APP_VERSION__: JSON.stringify(appVersion),
  },
  plugins: [
    vantIconFontInlineOnly(),
    inlineEntryCss(),
    vue(),
    // messages are precompiled at build time, so the app ships vue-i18n's runtime only
    VueI18nPlugin({
      include: [fileURLToPath(new URL('./src/i18n/locales/**', import.meta.url))],
      runtimeOnly: true,
      compositionOnly: true,
      fullInstall: false,
      dropMessageCompiler: true,
    }),
    Components({ resolvers: [VantResolver()], dts: false }),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/pwa',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      manifest: {
        name: '村治',
        short_name: '村治',
        description: '村级人民调解 · 离线可用',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#1f6f43',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,png,svg,ico,webmanifest}'],
      },
      devOptions: { enabled: false },
    }),
  ],
  build: {
    target: 'es2020',
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
  },
} as any)
