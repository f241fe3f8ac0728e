// AOR limits from GetConfig categories: pjsip.conf AORs, wizard AORs, sorcery.conf mappings.
import { describe, expect, it } from 'vitest'
import { cat } from '../helpers/categories.js'
import {
  aorMapping,
  aorsFromPjsipConf,
  aorsFromWizardConf,
  mergeAorConfigs,
} from '../../src/core/limits.js'

const DEFAULTS = {
  removeUnavailable: false,
  qualifyFrequency: 0,
  minimumExpiration: 60,
  maximumExpiration: 7200,
  defaultExpiration: 3600,
}

describe('aorsFromPjsipConf', () => {
  it('takes type=aor categories with template values applied, the last value winning, defaults for the rest', () => {
    const warnings: string[] = []
    const configs = aorsFromPjsipConf(
      [
        // [FAP003](aor-tpl): the template's lines come first in the answer, then the category's own
        cat(
          'FAP003',
          [
            ['type', 'aor'],
            ['maximum_expiration', '3600'],
            ['max_contacts', '1'],
            ['max_contacts', '2'],
          ],
          { templates: ['aor-tpl'] },
        ),
        cat('FAP003', [
          ['type', 'endpoint'],
          ['aors', 'FAP003'],
        ]),
        cat('erin', [
          ['type', 'aor'],
          ['max_contacts', '2'],
          ['remove_existing', 'yes'],
          ['qualify_frequency', '30'],
          ['remove_unavailable', 'on'],
        ]),
        cat('bare', [['type', 'aor']]),
      ],
      'pjsip.conf',
      warnings,
    )
    expect(configs).toEqual([
      {
        aor: 'FAP003',
        maxContacts: 2,
        removeExisting: false,
        ...DEFAULTS,
        maximumExpiration: 3600,
        source: 'getconfig',
        definedIn: 'pjsip.conf',
      },
      {
        aor: 'erin',
        maxContacts: 2,
        removeExisting: true,
        ...DEFAULTS,
        removeUnavailable: true,
        qualifyFrequency: 30,
        source: 'getconfig',
        definedIn: 'pjsip.conf',
      },
      {
        aor: 'bare',
        maxContacts: 0,
        removeExisting: false,
        ...DEFAULTS,
        source: 'getconfig',
        definedIn: 'pjsip.conf',
      },
    ])
    expect(warnings).toEqual([])
  })

  it('skips templates and categories whose first type is not aor; warns of a bad number and a duplicate AOR', () => {
    const warnings: string[] = []
    const configs = aorsFromPjsipConf(
      [
        cat(
          'aor-tpl',
          [
            ['type', 'aor'],
            ['max_contacts', '5'],
          ],
          { template: true },
        ),
        cat('x', [
          ['type', 'endpoint'],
          ['type', 'aor'],
        ]),
        cat('bad', [
          ['type', 'aor'],
          ['max_contacts', 'two'],
        ]),
        cat('dup', [
          ['type', 'aor'],
          ['max_contacts', '1'],
        ]),
        cat('dup', [
          ['type', 'aor'],
          ['max_contacts', '9'],
        ]),
      ],
      'pjsip.conf',
      warnings,
    )
    expect(configs.map((c) => [c.aor, c.maxContacts])).toEqual([
      ['bad', null],
      ['dup', 1],
    ])
    expect(warnings).toEqual([
      'pjsip.conf [bad]: max_contacts=two is not a number from 0 to 4294967295; Asterisk would refuse this AOR',
      'pjsip.conf: a second type=aor section [dup]; Asterisk refuses the duplicate object (use [dup](+type=aor) to add to it)',
    ])
  })
})

describe('aorsFromPjsipConf: AORs that share their option values', () => {
  it('each AOR gets the values it was given, and every AOR with a refused number is warned about', () => {
    const warnings: string[] = []
    const configs = aorsFromPjsipConf(
      [
        cat('a', [
          ['type', 'aor'],
          ['max_contacts', '2'],
          ['remove_existing', 'yes'],
        ]),
        cat('b', [
          ['type', 'aor'],
          ['max_contacts', '2'],
          ['remove_existing', 'yes'],
        ]),
        // the same values in another order: the last one given still wins
        cat('c', [
          ['type', 'aor'],
          ['remove_existing', 'yes'],
          ['max_contacts', '2'],
          ['max_contacts', '5'],
        ]),
        cat('d', [
          ['type', 'aor'],
          ['max_contacts', 'lots'],
        ]),
        cat('e', [
          ['type', 'aor'],
          ['max_contacts', 'lots'],
        ]),
        cat('f', [['type', 'aor']]),
      ],
      'pjsip.conf',
      warnings,
    )
    expect(configs.map((c) => [c.aor, c.maxContacts, c.removeExisting])).toEqual([
      ['a', 2, true],
      ['b', 2, true],
      ['c', 5, true],
      ['d', null, false],
      ['e', null, false],
      ['f', 0, false],
    ])
    expect(warnings).toEqual([
      'pjsip.conf [d]: max_contacts=lots is not a number from 0 to 4294967295; Asterisk would refuse this AOR',
      'pjsip.conf [e]: max_contacts=lots is not a number from 0 to 4294967295; Asterisk would refuse this AOR',
    ])
    // one AorConfig per AOR, each its own object
    expect(new Set(configs).size).toBe(configs.length)
  })
})

describe('aorsFromWizardConf', () => {
  it('one AOR per wizard, from its aor/ options; no max_contacts default of its own (0)', () => {
    const configs = aorsFromWizardConf([
      cat('wizphone', [
        ['type', 'wizard'],
        ['accepts_registrations', 'yes'],
        ['aor/max_contacts', '2'],
        ['aor/maximum_expiration', '3600'],
        ['endpoint/context', 'x'],
      ]),
      cat('trunk', [
        ['type', 'wizard'],
        ['remote_hosts', 'sip.example.com'],
        ['max_contacts', '7'],
      ]),
      cat(
        'wiz-tpl',
        [
          ['type', 'wizard'],
          ['aor/max_contacts', '9'],
        ],
        { template: true },
      ),
    ])
    expect(configs).toEqual([
      {
        aor: 'wizphone',
        maxContacts: 2,
        removeExisting: false,
        ...DEFAULTS,
        maximumExpiration: 3600,
        source: 'getconfig',
        definedIn: 'pjsip_wizard.conf',
      },
      {
        aor: 'trunk',
        maxContacts: 0,
        removeExisting: false,
        ...DEFAULTS,
        source: 'getconfig',
        definedIn: 'pjsip_wizard.conf',
      },
    ])
  })

  it('pjsip.conf wins over a wizard AOR of the same name', () => {
    const a = aorsFromPjsipConf([
      cat('same', [
        ['type', 'aor'],
        ['max_contacts', '3'],
      ]),
    ])
    const b = aorsFromWizardConf([
      cat('same', [
        ['type', 'wizard'],
        ['aor/max_contacts', '1'],
      ]),
    ])
    expect(mergeAorConfigs(a, b).map((c) => [c.aor, c.maxContacts, c.definedIn])).toEqual([
      ['same', 3, 'pjsip.conf'],
    ])
  })
})

describe('aorMapping (sorcery.conf)', () => {
  it('no sorcery.conf, or no aor line in [res_pjsip]: the default config,pjsip.conf is authoritative', () => {
    expect(aorMapping(null)).toEqual({ authoritative: true, files: ['pjsip.conf'], others: [] })
    expect(aorMapping([cat('res_pjsip', [['endpoint', 'realtime,ps_endpoints']])])).toEqual({
      authoritative: true,
      files: ['pjsip.conf'],
      others: [],
    })
  })

  it('a realtime (or any non-config) aor mapping makes the files not authoritative', () => {
    expect(
      aorMapping([
        cat('res_pjsip', [
          ['aor', 'config,pjsip.conf,criteria=type=aor'],
          ['aor', 'realtime,ps_aors'],
        ]),
      ]),
    ).toEqual({
      authoritative: false,
      files: ['pjsip.conf'],
      others: ['realtime,ps_aors'],
    })
  })

  it('a config mapping to another file names that file', () => {
    expect(
      aorMapping([cat('res_pjsip', [['aor', ' config , pjsip_aors.conf,criteria=type=aor']])]),
    ).toEqual({ authoritative: true, files: ['pjsip_aors.conf'], others: [] })
  })
})
