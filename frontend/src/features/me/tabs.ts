import type { TabDef } from '../../app/tabs'
import { ICONS } from '../../app/icons'

export const meTabs: TabDef[] = [
  { path: '/me', icon: ICONS.me, labelKey: 'tabs.me', order: 90, match: ['/sync', '/conflicts'] },
]
