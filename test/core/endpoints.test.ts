// Which contacts Asterisk can be made to collect: the endpoints and the AORs they name, from GetConfig
// categories, and how prune --via asterisk removes each contact.
import { describe, expect, it } from 'vitest'
import { cat } from '../helpers/categories.js'
import {
  collectionOf,
  endpointFiles,
  endpointKnowledge,
  unknownEndpoints,
} from '../../src/core/endpoints.js'
import type { AorReport, ClassifiedContact } from '../../src/core/types.js'

function contact(aor: string, endpoint: string): ClassifiedContact {
  return { aor, endpoint, fields: {} } as unknown as ClassifiedContact
}

function report(aor: string, state: AorReport['state'] = 'ok'): AorReport {
  return { aor, state } as unknown as AorReport
}

describe('endpointKnowledge', () => {
  it("collects every endpoint and each name of every `aors` line (trimmed), and each wizard's own name", () => {
    const known = endpointKnowledge(
      [
        [
          cat(
            'tpl',
            [
              ['type', 'endpoint'],
              ['aors', 'never'],
            ],
            { template: true },
          ),
          cat('alice', [
            ['type', 'endpoint'],
            ['aors', ' alice , shared,'],
          ]),
          cat('bob', [
            ['type', 'endpoint'],
            ['aors', 'bob'],
            ['aors', 'bob2'],
          ]),
          cat('alice', [['type', 'aor']]),
        ],
      ],
      [
        cat('wiz', [
          ['type', 'wizard'],
          ['endpoint/aors', 'extra'],
        ]),
      ],
    )
    expect(known.complete).toBe(true)
    expect([...known.endpoints].sort()).toEqual(['alice', 'bob', 'wiz'])
    expect([...known.aors].sort()).toEqual(['alice', 'bob', 'bob2', 'extra', 'shared', 'wiz'])
  })

  it('is not complete when no endpoint file was found, or sorcery.conf maps endpoints elsewhere', () => {
    expect(endpointKnowledge([null], null).complete).toBe(false)
    expect(endpointFiles(null)).toEqual({ files: ['pjsip.conf'], why: null })
    const sorcery = [cat('res_pjsip', [['endpoint', 'realtime,ps_endpoints']])]
    expect(endpointFiles(sorcery).why).toMatch(/realtime,ps_endpoints/)
    expect(
      endpointFiles([cat('res_pjsip', [['endpoint', 'config,other.conf,criteria=type=endpoint']])]),
    ).toEqual({ files: ['other.conf'], why: null })
  })
})

describe('collectionOf', () => {
  const known = endpointKnowledge(
    [
      [
        cat('alice', [
          ['type', 'endpoint'],
          ['aors', 'alice'],
        ]),
      ],
    ],
    null,
  )

  it('the long way (PJSIPShowEndpoint) for an AOR an endpoint names, or a contact naming an endpoint', () => {
    expect(collectionOf(contact('alice', 'alice'), report('alice'), known, false)).toBe('endpoint')
    expect(collectionOf(contact('2000', 'alice'), report('2000'), known, false)).toBe('endpoint')
  })

  it('directly for an AOR no endpoint names; `pjsip show aor` when a cache is in front of the contacts', () => {
    expect(collectionOf(contact('2000', '2000'), report('2000'), known, false)).toBe('direct')
    expect(collectionOf(contact('2000', ''), report('2000'), known, true)).toBe('aor')
  })

  it('without complete knowledge of the endpoints, only a contact of an unconfigured AOR goes directly', () => {
    const none = unknownEndpoints('GetConfig refused')
    expect(collectionOf(contact('2000', '2000'), report('2000'), none, false)).toBe('endpoint')
    expect(collectionOf(contact('ghost', 'x'), report('ghost', 'orphaned'), none, false)).toBe(
      'direct',
    )
    // a cache: nothing can retrieve an unconfigured AOR, so it stays the long way (deleted directly at its end)
    expect(collectionOf(contact('ghost', 'x'), report('ghost', 'orphaned'), none, true)).toBe(
      'endpoint',
    )
  })
})
