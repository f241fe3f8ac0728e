// The one output gate: a command's data and the chosen format in, the text for stdout out.
// Renderers are pure; src/cli.ts writes the result once.

import type { Format } from '../commands/types.js'
import type { DemoData, View, ViewData } from '../commands/views.js'
import { checkJson, checkNagios, checkPrometheus } from './check.js'
import { contactsJson, contactsTable } from './contacts.js'
import { pruneJson, prunePlanPreview, pruneTable, restoreJson, restoreTable } from './prune.js'
import { sourcesJson, sourcesTable } from './sources.js'
import { doctorJson, doctorTable } from './doctor.js'
import { paint, type Style } from './style.js'
import { completionScript } from './completion.js'
import { refusalJson, refusalTable } from './watch.js'

export type { Style } from './style.js'

/** A renderer returns the text, or its pieces in order (big JSON documents are written piece by piece). */
export type Rendered = string | Iterable<string>
/** One view's renderer in one format. */
type Renderer<V extends View> = (data: ViewData[V], style: Style) => Rendered

/** Every view, and its renderer in each format it has. */
const RENDERERS: { [V in View]: Partial<Record<Format, Renderer<V>>> } = {
  contacts: { table: contactsTable, json: contactsJson },
  check: { nagios: checkNagios, json: checkJson, prometheus: checkPrometheus },
  sources: { table: sourcesTable, json: sourcesJson },
  doctor: { table: doctorTable, json: doctorJson },
  prune: { table: pruneTable, json: pruneJson },
  'prune-plan': { table: prunePlanPreview },
  restore: { table: restoreTable, json: restoreJson },
  gen: { text: (data) => data.text },
  demo: { text: demoText },
  completion: { text: completionScript },
  // the exporter serves its metrics over HTTP and prints nothing when it stops
  exporter: { text: () => '' },
  // pjctl watch writes each refusal as it comes (deps.emit) and nothing when it stops
  refusal: { table: refusalTable, json: refusalJson },
  watch: { table: () => '', json: () => '' },
}

export function render<V extends View>(
  view: V,
  format: Format,
  data: ViewData[V],
  style: Style,
): Rendered {
  const renderers: Partial<Record<Format, Renderer<V>>> = RENDERERS[view]
  const renderer = renderers[format]
  if (!renderer) throw new Error(`no ${format} renderer for ${view}`)
  return renderer(data, style)
}

/** The whole text at once (for the demo, which nests renderings). */
export function renderText<V extends View>(
  view: V,
  format: Format,
  data: ViewData[V],
  style: Style,
): string {
  const rendered = render(view, format, data, style)
  return typeof rendered === 'string' ? rendered : [...rendered].join('')
}

/** The demo: each step's command line and its real output, then the fix in two sentences. */
function demoText(data: DemoData, style: Style): string {
  const c = paint(style)
  const out = [c.bold(`pjctl demo: ${data.server}`), '']
  data.steps.forEach((step, i) => {
    out.push(c.bold(`${i + 1}. ${step.title}`))
    if (step.command) out.push(c.cyan(`$ ${step.command}`))
    if (step.lines && !step.result) out.push(...step.lines.map((line) => `  ${line}`))
    if (step.result) {
      // the demo is read by a person even when piped to a pager: tables, never plain rows
      out.push(
        renderText(step.result.view, step.result.format, step.result.data, {
          ...style,
          plain: false,
        }).trimEnd(),
      )
      if (step.command) out.push(c.gray(`(exit ${step.result.exitCode})`))
      // a note on the result (the demo's prune: where a real backup goes) comes after it
      if (step.lines) out.push(...step.lines.map((line) => c.gray(line)))
    }
    out.push('')
  })
  out.push(c.bold('What happened and the fix:'), ...data.fix, '')
  return out.join('\n')
}
