/** English, loaded only when someone picks it (most people never do): the zh-CN messages alone are in the main chunk. */
import enUS from 'vant/es/locale/lang/en-US'
import en from './locales/en.json'
import dashEn from './locales/dashboard.en.json' // dashboard (i9)
import featuresEn from './locales/features.en.json' // f78
import integEn from './locales/integrations.en.json'
import recordsEn from './locales/records.en.json' // sync centre: record types
import settingsEn from './locales/settings.en.json' // county settings and code tables

export const messages = { ...en, ...dashEn, ...featuresEn, ...integEn, ...recordsEn, ...settingsEn }
export const vantMessages = enUS
