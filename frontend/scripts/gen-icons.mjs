// Draws the app icons (192 and 512 px PNG) without any image tool: a green rounded
// square with a simple white "roof over a scale" mark. Idempotent; writes public/icons/.
import { PNG } from 'pngjs'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const outDir = path.join(here, '..', 'public', 'icons')
fs.mkdirSync(outDir, { recursive: true })

function draw(size) {
  const png = new PNG({ width: size, height: size })
  const green = [31, 111, 67]
  const white = [255, 255, 255]
  const r = size * 0.18
  const s = size
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const i = (y * s + x) * 4
      // rounded-square mask (full bleed for maskable safety: corners transparent)
      const cx = Math.min(Math.max(x, r), s - r), cy = Math.min(Math.max(y, r), s - r)
      const inside = (x - cx) ** 2 + (y - cy) ** 2 <= r * r
      let c = inside ? green : null
      const u = x / s, v = y / s
      // roof: triangle from (0.2,0.45) to (0.5,0.2) to (0.8,0.45), thickness
      const roofY = 0.45 - (0.25 * (1 - Math.abs(u - 0.5) / 0.3))
      if (inside && u > 0.2 && u < 0.8 && v > roofY - 0.035 && v < roofY + 0.035) c = white
      // house body outline
      if (inside && u > 0.27 && u < 0.73 && v > 0.43 && v < 0.8) {
        const border = u < 0.32 || u > 0.68 || v > 0.75
        if (border) c = white
      }
      // balance beam and post
      if (inside && u > 0.36 && u < 0.64 && v > 0.52 && v < 0.55) c = white
      if (inside && u > 0.485 && u < 0.515 && v > 0.52 && v < 0.75) c = white
      // pans
      for (const px of [0.4, 0.6]) {
        if (inside && (u - px) ** 2 + ((v - 0.62) * 1.6) ** 2 < 0.045 ** 2 && v > 0.6) c = white
      }
      if (c) { png.data[i] = c[0]; png.data[i + 1] = c[1]; png.data[i + 2] = c[2]; png.data[i + 3] = 255 }
      else { png.data[i + 3] = 0 }
    }
  }
  return PNG.sync.write(png)
}

for (const size of [192, 512]) {
  const file = path.join(outDir, `icon-${size}.png`)
  if (!fs.existsSync(file)) fs.writeFileSync(file, draw(size))
}
