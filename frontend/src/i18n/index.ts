import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import zhCN from 'vant/es/locale/lang/zh-CN'
import zh from './locales/zh-CN.json'
import dashZh from './locales/dashboard.zh-CN.json' // dashboard (i9)
import featuresZh from './locales/features.zh-CN.json' // f78: grid work, six-no, nominations, points, home
import integZh from './locales/integrations.zh-CN.json'
import recordsZh from './locales/records.zh-CN.json' // sync centre: record types, their fields and titles
import settingsZh from './locales/settings.zh-CN.json' // county settings and code tables

export type Lang = 'zh-CN' | 'en'
const KEY = 'cunzhi.lang'

export function savedLang(): Lang {
  try {
    return (localStorage.getItem(KEY) as Lang) === 'en' ? 'en' : 'zh-CN'
  } catch {
    return 'zh-CN'
  }
}

// zh-CN only at start; English comes with its own chunk when chosen (setLang), so a phone parses and
// builds half the messages at each start
export const i18n = createI18n({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': { ...zh, ...dashZh, ...featuresZh, ...integZh, ...recordsZh, ...settingsZh } } as Record<string, any>,
})

export function currentLang(): Lang {
  return (i18n.global.locale as any).value as Lang
}

let english: Promise<void> | null = null
let wanted: Lang = 'zh-CN'

function loadEnglish(): Promise<void> {
  english ||= import('./en').then((m) => {
    i18n.global.setLocaleMessage('en', m.messages as any)
    Locale.add({ 'en-US': m.vantMessages })
  }).catch((e) => {
    english = null // offline before the chunk was cached: try again next time
    throw e
  })
  return english
}

function apply(lang: Lang) {
  const from = currentLang()
  ;(i18n.global.locale as any).value = lang
  document.documentElement.lang = lang
  if (lang === 'en') Locale.use('en-US')
  else if (from !== 'zh-CN') Locale.use('zh-CN', zhCN) // Vant starts in zh-CN: at start, nothing to deep-copy again
}

/** Switches the language (and remembers it); resolves once the screen shows it. */
export async function setLang(lang: Lang): Promise<void> {
  wanted = lang
  try {
    localStorage.setItem(KEY, lang)
  } catch {
    /* private mode: this session only */
  }
  if (lang === 'en') {
    try {
      await loadEnglish()
    } catch (e) {
      console.error('could not load the English messages', e)
      return
    }
  }
  if (wanted === lang) apply(lang) // a later choice made while English loaded wins
}
