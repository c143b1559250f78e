/**
 * 人民调解协议书 in the standard layout (the Ministry of Justice's model text), filled from the
 * case: parties, the dispute, the terms, how and by when they are carried out, signatures. The
 * same model draws the printable page (AgreementDoc.vue, print CSS) and the PDF (app/pdf.ts).
 */
import { PdfDoc } from '../../app/pdf'

export interface AgreementModel {
  title: string
  number: string
  committee: string
  parties: { role: string; name: string; details: string }[]
  facts: string
  terms: string
  amount: string
  performance: string
  /** 一式N份, in Chinese numerals */
  copies: string
  signedOn: string
  court: string
  mediators: string[]
}

const GENDER: Record<string, string> = { male: '男', female: '女' }
const ROLE: Record<string, string> = { applicant: '申请人', respondent: '被申请人', other: '其他当事人' }
const COURT: Record<string, string> = { none: '', requested: '当事人已申请司法确认。', granted: '本协议已经人民法院司法确认。' }

/** "万福村村民委员会" → "万福村人民调解委员会"; otherwise "<name>人民调解委员会". */
export function committeeName(orgName: string): string {
  const n = (orgName || '').trim()
  if (!n) return '人民调解委员会'
  if (n.endsWith('人民调解委员会')) return n
  if (n.endsWith('村民委员会')) return n.replace(/村民委员会$/, '人民调解委员会').replace(/村人民/, '村人民')
  if (n.endsWith('居民委员会')) return n.replace(/居民委员会$/, '人民调解委员会')
  return `${n}人民调解委员会`
}

const CN = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九', '十']
export function cnNumber(n: number): string {
  if (n <= 10) return CN[n]
  if (n < 20) return `十${CN[n - 10]}`
  return String(n)
}

export function chineseDate(iso: string | null | undefined): string {
  if (!iso) return '　　年　　月　　日'
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number)
  return `${y}年${m}月${d}日`
}

/** 履行协议的方式、地点、期限: the way and place as written, and the date entered as 履行期限 (perform_by). */
export function performanceText(a: Record<string, any>): string {
  const by = a.perform_by ? `于${chineseDate(a.perform_by)}前履行完毕。` : ''
  const how = String(a.performance || '').trim()
  return [how && by ? how.replace(/[。；;，,\s]+$/, '') + '，' + by : how, how ? '' : by].filter(Boolean).join('')
}

export function agreementModel(c: Record<string, any>, orgName: string, userNames: Map<string, string>, parties = 2): AgreementModel {
  const a = c.agreement || {}
  const list = (c.parties || []) as any[]
  return {
    title: '人民调解协议书',
    number: c.case_number || '',
    committee: committeeName(orgName),
    parties: list.map((p) => ({
      role: ROLE[p.role] || '当事人',
      name: p.name || '',
      details: [
        GENDER[p.gender] ? `性别：${GENDER[p.gender]}` : '',
        p.id_number ? `身份证号码：${p.id_number}` : '',
        p.address ? `住址：${p.address}` : '',
        p.phone ? `联系方式：${p.phone}` : '',
      ].filter(Boolean).join('　'),
    })),
    facts: [c.title, c.description].filter(Boolean).join('\n'),
    terms: a.terms || '',
    amount: a.amount ? `涉及金额：人民币 ${a.amount} 元。` : '',
    performance: performanceText(a),
    copies: cnNumber(Math.max(parties, list.length) + 1),
    signedOn: chineseDate(a.signed_on),
    court: COURT[a.court_confirmation || 'none'] || '',
    mediators: (c.mediator_ids || []).map((id: string) => userNames.get(id) || '').filter(Boolean),
  }
}

export function agreementPdf(m: AgreementModel): Blob {
  const doc = new PdfDoc(64)
  doc.text(m.title, { size: 22, align: 'center', bold: true, after: 4 })
  if (m.number) doc.text(`编号：${m.number}`, { size: 11, align: 'right', after: 8 })
  for (const p of m.parties) {
    doc.text(`当事人（${p.role}）：${p.name}`, { size: 12 })
    if (p.details) doc.text(p.details, { size: 11, indent: 2 })
  }
  doc.gap(6)
  doc.text('纠纷主要事实、争议事项：', { size: 12, bold: true })
  doc.text(m.facts || '　', { size: 12, indent: 2, after: 6 })
  doc.text('经调解，双方当事人自愿达成如下协议：', { size: 12, bold: true })
  doc.text(m.terms || '　', { size: 12, indent: 2 })
  if (m.amount) doc.text(m.amount, { size: 12, indent: 2 })
  doc.gap(6)
  doc.text('履行协议的方式、地点、期限：', { size: 12, bold: true })
  doc.text(m.performance || '　', { size: 12, indent: 2, after: 6 })
  doc.text(`本协议自各方当事人签名（盖章或按指印）、人民调解员签名并加盖人民调解委员会印章之日起生效。本协议一式${m.copies}份，当事人、人民调解委员会各持一份。`, { size: 12, indent: 2 })
  if (m.court) doc.text(m.court, { size: 12, indent: 2 })
  doc.gap(18)
  doc.columns('当事人（签名盖章或按指印）：', '人民调解员（签名）：')
  doc.columns('', m.mediators.join('、'))
  doc.gap(24)
  doc.columns('', '记录人（签名）：')
  doc.gap(24)
  doc.text(`${m.committee}（印）`, { size: 12, align: 'right' })
  doc.text(m.signedOn, { size: 12, align: 'right' })
  return doc.toBlob(m.title)
}
