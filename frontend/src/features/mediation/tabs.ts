import type { TabDef } from '../../app/tabs'
import { ICONS } from '../../app/icons'

export const mediationTabs: TabDef[] = [
  { path: '/', icon: ICONS.cases, labelKey: 'tabs.cases', order: 10, match: ['/cases'] },
]
