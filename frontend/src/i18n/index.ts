import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import enUS from 'vant/es/locale/lang/en-US'
import zhCN from 'vant/es/locale/lang/zh-CN'
import zh from './locales/zh-CN.json'
import en from './locales/en.json'
import dashZh from './locales/dashboard.zh-CN.json' // dashboard (i9)
import dashEn from './locales/dashboard.en.json' // dashboard (i9)
import featuresZh from './locales/features.zh-CN.json' // f78: grid work, six-no, nominations, points, home
import featuresEn from './locales/features.en.json' // f78
import integZh from './locales/integrations.zh-CN.json'
import integEn from './locales/integrations.en.json'

export type Lang = 'zh-CN' | 'en'
const KEY = 'cunzhi.lang'

export function savedLang(): Lang {
  try {
    return (localStorage.getItem(KEY) as Lang) === 'en' ? 'en' : 'zh-CN'
  } catch {
    return 'zh-CN'
  }
}

export const i18n = createI18n({
  legacy: false,
  locale: savedLang(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': { ...zh, ...dashZh, ...featuresZh, ...integZh }, en: { ...en, ...dashEn, ...featuresEn, ...integEn } },
})

export function currentLang(): Lang {
  return (i18n.global.locale as any).value as Lang
}

export function setLang(lang: Lang) {
  ;(i18n.global.locale as any).value = lang
  localStorage.setItem(KEY, lang)
  document.documentElement.lang = lang
  if (lang === 'en') Locale.use('en-US', enUS)
  else Locale.use('zh-CN', zhCN)
}
