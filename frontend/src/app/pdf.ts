/**
 * A small PDF writer for Chinese documents, made on the phone, offline, with no font file.
 *
 * It uses the standard Adobe-GB1 CID font STSong-Light with the UniGB-UCS2-H encoding (one of
 * the fonts every PDF reader must provide or substitute for Chinese: Adobe Reader, PDFium in
 * Chrome/Android, pdf.js, macOS Preview), so a whole document is a few kilobytes and no 10 MB
 * CJK font is shipped to a cheap phone. See docs/decisions.md ("The agreement as PDF").
 *
 * Layout is simple flowing text: paragraphs wrapped to the page width (CJK glyphs 1 em, ASCII
 * 0.5 em), centred titles, right-aligned lines, page breaks. Characters outside the BMP are
 * replaced by '?'.
 */

export const A4 = { w: 595.28, h: 841.89 }

export interface TextOptions {
  size?: number
  align?: 'left' | 'center' | 'right'
  bold?: boolean
  /** first-line indent, in em */
  indent?: number
  /** line height factor */
  leading?: number
  /** space after the paragraph, pt */
  after?: number
}

function hexUcs2(s: string): string {
  let out = ''
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    out += (cp > 0xffff ? 0x3f : cp).toString(16).padStart(4, '0').toUpperCase()
  }
  return out
}

/** Width of a string in em (CJK and full-width 1, ASCII half). */
export function emWidth(s: string): number {
  let w = 0
  for (const ch of s) w += ch.codePointAt(0)! < 0x7f ? 0.5 : 1
  return w
}

/**
 * Splits text into lines no wider than `maxEm` (breaks anywhere in CJK text, keeps a short ASCII
 * word whole); each paragraph's first line is `indentEm` narrower. `first` marks those lines.
 */
export function wrap(text: string, maxEm: number, indentEm = 0): { text: string; first: boolean }[] {
  const lines: { text: string; first: boolean }[] = []
  for (const para of text.split('\n')) {
    let line = ''
    let first = true
    let width = indentEm
    for (const ch of para) {
      const w = emWidth(ch)
      if (width + w > maxEm && line) {
        const m = /[A-Za-z0-9.,%-]{1,12}$/.exec(line)
        const carry = m && m[0].length < line.length && /[A-Za-z0-9]/.test(ch) ? m[0] : ''
        lines.push({ text: line.slice(0, line.length - carry.length), first })
        first = false
        line = carry
        width = emWidth(carry)
      }
      line += ch
      width += w
    }
    lines.push({ text: line, first })
  }
  return lines
}

export class PdfDoc {
  private pages: string[] = []
  private ops: string[] = []
  private y = 0
  constructor(public margin = 56, public page = A4) {
    this.newPage()
  }

  get width() {
    return this.page.w - 2 * this.margin
  }

  newPage() {
    if (this.ops.length) this.pages.push(this.ops.join('\n'))
    this.ops = []
    this.y = this.page.h - this.margin
  }

  gap(pt: number) {
    this.y -= pt
    if (this.y < this.margin) this.newPage()
  }

  /** A paragraph of flowing text. */
  text(s: string, o: TextOptions = {}) {
    const size = o.size ?? 12
    const lead = size * (o.leading ?? 1.6)
    const maxEm = this.width / size
    const lines = wrap(s, maxEm, o.indent ?? 0)
    for (const line of lines) {
      if (this.y - lead < this.margin) this.newPage()
      this.y -= lead
      const w = emWidth(line.text) * size
      const indent = line.first ? (o.indent ?? 0) * size : 0
      const x = o.align === 'center' ? this.margin + (this.width - w) / 2
        : o.align === 'right' ? this.margin + this.width - w : this.margin + indent
      const bold = o.bold ? '2 Tr 0.35 w' : '0 Tr'
      this.ops.push(`BT /F1 ${size} Tf ${bold} ${x.toFixed(2)} ${this.y.toFixed(2)} Td <${hexUcs2(line.text)}> Tj ET`)
    }
    if (o.after) this.gap(o.after)
  }

  /** Two columns on one line (e.g. two signature blocks). */
  columns(left: string, right: string, size = 12) {
    const lead = size * 1.8
    if (this.y - lead < this.margin) this.newPage()
    this.y -= lead
    const half = this.width / 2
    this.ops.push(`BT /F1 ${size} Tf 0 Tr ${this.margin.toFixed(2)} ${this.y.toFixed(2)} Td <${hexUcs2(left)}> Tj ET`)
    this.ops.push(`BT /F1 ${size} Tf 0 Tr ${(this.margin + half).toFixed(2)} ${this.y.toFixed(2)} Td <${hexUcs2(right)}> Tj ET`)
  }

  /** A horizontal rule across the text width. */
  rule(weight = 0.6) {
    this.gap(6)
    this.ops.push(`${weight} w ${this.margin} ${this.y.toFixed(2)} m ${(this.margin + this.width).toFixed(2)} ${this.y.toFixed(2)} l S`)
    this.gap(6)
  }

  /** The finished file. */
  toBlob(title = ''): Blob {
    return new Blob([this.toString(title)], { type: 'application/pdf' })
  }

  toString(title = ''): string {
    const pages = [...this.pages, this.ops.join('\n')]
    const objs: string[] = []
    const add = (body: string) => objs.push(body) // object number = index + 1
    // 1 catalog, 2 pages, 3 font, 4 descendant, 5 descriptor, 6 info, then page/content pairs
    const pageIds = pages.map((_, i) => 7 + i * 2)
    add('<< /Type /Catalog /Pages 2 0 R >>')
    add(`<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`)
    add('<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>')
    add('<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>')
    add('<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>')
    add(`<< /Producer (Cunzhi) /Title <FEFF${hexUcs2(title)}> >>`)
    for (const [i, content] of pages.entries()) {
      add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${this.page.w} ${this.page.h}] /Resources << /Font << /F1 3 0 R >> >> /Contents ${pageIds[i] + 1} 0 R >>`)
      add(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`)
    }
    let out = '%PDF-1.4\n'
    const offsets: number[] = []
    objs.forEach((body, i) => {
      offsets.push(out.length) // every byte is ASCII: string length = byte offset
      out += `${i + 1} 0 obj\n${body}\nendobj\n`
    })
    const xref = out.length
    out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`
    for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`
    out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n${xref}\n%%EOF\n`
    return out
  }
}
