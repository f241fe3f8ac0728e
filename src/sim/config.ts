// AMI GetConfig (main/manager.c action_getconfig) over the sim's model: pjsip.conf and
// pjsip_wizard.conf as the lab writes them (etc/pjsip.conf, etc/pjsip_wizard.conf), rendered
// from the AORs the registrar runs; sorcery.conf absent unless a test gives one. A test may
// replace any file's categories (SimOptions.configFiles) to make the files and what runs differ.

import { actionIdHeader, block, response } from './ami.js'
import type { ActionContext, SimConfigCategory } from './context.js'
import type { SimAor } from './registrar.js'

/** The files of the model: null when the file does not exist. */
export type SimConfigFiles = Record<string, SimConfigCategory[] | null>

/** Asterisk's AOR defaults (res/res_pjsip/location.c): options equal to them are not written. */
const AOR_OPTIONS: [keyof SimAor, string, unknown][] = [
  ['removeExisting', 'remove_existing', false],
  ['removeUnavailable', 'remove_unavailable', false],
  ['qualifyFrequency', 'qualify_frequency', 0],
  ['minimumExpiration', 'minimum_expiration', 60],
  ['maximumExpiration', 'maximum_expiration', 7200],
  ['defaultExpiration', 'default_expiration', 3600],
  ['supportPath', 'support_path', false],
]

function aorOptions(aor: SimAor, prefix: string): [string, string][] {
  const lines: [string, string][] = [[`${prefix}max_contacts`, String(aor.maxContacts)]]
  for (const [field, option, dflt] of AOR_OPTIONS) {
    const value = aor[field]
    if (value !== dflt)
      lines.push([
        `${prefix}${option}`,
        typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value),
      ])
  }
  return lines
}

/** pjsip.conf as the lab's: transport, and per AOR defined there an endpoint, an auth and the aor, from templates. */
export function renderPjsipConf(aors: readonly SimAor[]): SimConfigCategory[] {
  const categories: SimConfigCategory[] = [
    { name: 'global', lines: [['type', 'global']] },
    {
      name: 'transport-udp',
      lines: [
        ['type', 'transport'],
        ['protocol', 'udp'],
        ['bind', '127.0.0.1:5060'],
      ],
    },
    {
      name: 'endpoint-tpl',
      template: true,
      lines: [
        ['type', 'endpoint'],
        ['context', 'from-lab'],
      ],
    },
    { name: 'aor-tpl', template: true, lines: [['type', 'aor']] },
  ]
  for (const aor of aors) {
    if ((aor.definedIn ?? 'pjsip.conf') !== 'pjsip.conf') continue
    if (aor.endpoint === false) {
      categories.push({
        name: aor.name,
        templates: ['aor-tpl'],
        lines: [['type', 'aor'], ...aorOptions(aor, '')],
      })
      continue
    }
    categories.push(
      {
        name: aor.name,
        templates: ['endpoint-tpl'],
        lines: [
          ['type', 'endpoint'],
          ['context', 'from-lab'],
          ['auth', aor.auth],
          ['aors', aor.name],
        ],
      },
      {
        name: aor.auth,
        lines: [
          ['type', 'auth'],
          ['auth_type', 'userpass'],
          ['username', aor.name],
          ['password', `${aor.name}-pass`],
        ],
      },
      { name: aor.name, templates: ['aor-tpl'], lines: [['type', 'aor'], ...aorOptions(aor, '')] },
    )
  }
  return categories
}

/** pjsip_wizard.conf: one wizard per AOR defined there (accepts_registrations, aor/... options). */
export function renderWizardConf(aors: readonly SimAor[]): SimConfigCategory[] {
  return aors
    .filter((aor) => aor.definedIn === 'pjsip_wizard.conf')
    .map((aor) => ({
      name: aor.name,
      lines: [
        ['type', 'wizard'],
        ['accepts_registrations', 'yes'],
        ['accepts_auth', 'yes'],
        ...aorOptions(aor, 'aor/'),
        ['inbound_auth/username', aor.name],
        ['inbound_auth/password', `${aor.name}-pass`],
        ['endpoint/context', 'from-lab'],
      ],
    }))
}

/** does_category_match (main/config.c): every `name=value` pair (POSIX extended regexes, unanchored) matches some variable. */
function categoryMatches(category: SimConfigCategory, filter: string): boolean {
  if (filter.trim() === '') return !category.template
  let matched = 0
  let expressions = 0
  let templateOk = false
  for (const raw of filter.split(',')) {
    const pair = raw.trim()
    expressions++
    const eq = pair.indexOf('=')
    if (eq < 0) break // a pair without `=` ends the matching: the category cannot match
    const name = pair.slice(0, eq).trim()
    const value = (pair.slice(eq + 1).split('=')[0] ?? '').trim()
    if (name === 'TEMPLATES') {
      if (value.toLowerCase() === 'include') {
        if (category.template) templateOk = true
        matched++
      } else if (value.toLowerCase() === 'restrict') {
        if (!category.template) break
        matched++
        templateOk = true
      }
      continue
    }
    let nameRe: RegExp
    let valueRe: RegExp
    try {
      nameRe = new RegExp(name)
      valueRe = new RegExp(value)
    } catch {
      return false
    }
    if (category.lines.some(([n, v]) => nameRe.test(n) && valueRe.test(v))) matched++
  }
  return matched === expressions && (!category.template || templateOk)
}

/** Category-NNNNNN, IsTemplate-NNNNNN, Templates-NNNNNN, Line-NNNNNN-MMMMMM (six digits, from 0). */
function categoryText(category: SimConfigCategory, index: number): string {
  const n = String(index).padStart(6, '0')
  let text = `Category-${n}: ${category.name}\r\n`
  if (category.template) text += `IsTemplate-${n}: 1\r\n`
  if (category.templates?.length) text += `Templates-${n}: ${category.templates.join(',')}\r\n`
  category.lines.forEach(([name, value], line) => {
    text += `Line-${n}-${String(line).padStart(6, '0')}: ${name}=${value}\r\n`
  })
  return text
}

export function getConfig(ctx: ActionContext): string[] {
  const filename = ctx.request.get('Filename').trim()
  if (!filename) return [response('Error', ctx.actionId, 'Filename not specified')]
  if (filename.startsWith('/') || filename.split('/').includes('..'))
    return [response('Error', ctx.actionId, 'File requires escalated privileges')]
  const categories = ctx.sim.configFile(filename)
  if (categories === null) return [response('Error', ctx.actionId, 'Config file not found')]
  const wanted = ctx.request.get('Category')
  const filter = ctx.request.get('Filter')
  const shown = categories.filter(
    (c) => (!wanted || c.name.toLowerCase() === wanted.toLowerCase()) && categoryMatches(c, filter),
  )
  const head = block([['Response', 'Success'], ...actionIdHeader(ctx.actionId)]).slice(0, -2)
  const body = shown.map(categoryText)
  if (wanted && shown.length === 0) body.push('No categories found\r\n')
  return [head, ...body, '\r\n']
}
