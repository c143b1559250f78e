import { describe, it, expect } from 'vitest'
import { PdfDoc, wrap, emWidth } from './pdf'

describe('the small CJK PDF writer', () => {
  it('wraps Chinese text by width and keeps short ASCII words whole', () => {
    expect(emWidth('调解ab')).toBe(3)
    const lines = wrap('一二三四五六七八九十', 4)
    expect(lines.map((l) => l.text)).toEqual(['一二三四', '五六七八', '九十'])
    expect(wrap('金额 1200.00 元', 6).map((l) => l.text).join('|')).not.toContain('12|00')
  })
  it('writes a valid file: header, objects, an xref whose offsets point at each object', () => {
    const doc = new PdfDoc()
    doc.text('人民调解协议书', { size: 20, align: 'center', bold: true })
    for (let i = 0; i < 80; i++) doc.text(`第 ${i} 行：双方自愿达成如下协议`)
    const pdf = doc.toString('人民调解协议书')
    expect(pdf.startsWith('%PDF-1.4')).toBe(true)
    expect(pdf).toContain('/STSong-Light')
    expect(pdf).toContain('<4EBA6C118C0389E3534F8BAE4E66>') // 人民调解协议书 as UCS-2
    const xrefAt = Number(/startxref\n(\d+)/.exec(pdf)![1])
    expect(pdf.slice(xrefAt, xrefAt + 4)).toBe('xref')
    const offsets = [...pdf.slice(xrefAt).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]))
    offsets.forEach((off, i) => expect(pdf.slice(off, off + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`))
    expect(Number(/\/Count (\d+)/.exec(pdf)![1])).toBeGreaterThan(1) // 80 lines: more than one page
  })
})
