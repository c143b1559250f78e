/** ECharts through echarts/core with only what this screen draws (bar charts on canvas): loaded with the
 * dashboard route only. */
import { init, use } from 'echarts/core'
import { BarChart } from 'echarts/charts'
import { GridComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, GridComponent, TooltipComponent, CanvasRenderer])

export { init }
