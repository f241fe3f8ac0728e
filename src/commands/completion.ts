// pjctl completion bash|zsh|fish: the shell completion script, drawn from the option table.

import { UsageError } from '../errors.js'
import type { CommandSpec } from './types.js'
import type { CompletionData } from './views.js'

const SHELLS = ['bash', 'zsh', 'fish'] as const

export const completion: CommandSpec<'completion'> = {
  name: 'completion',
  args: '<shell>',
  argChoices: SHELLS,
  summary:
    'Print the shell completion script for bash, zsh or fish (every command and flag, from the option table).',
  examples: [
    'pjctl completion bash | sudo tee /etc/bash_completion.d/pjctl',
    'pjctl completion zsh > "${fpath[1]}/_pjctl"',
    'pjctl completion fish > ~/.config/fish/completions/pjctl.fish',
  ],
  options: [],
  formats: ['text'],
  run({ args, deps }) {
    const shell = args[0]
    if (shell === undefined || !(SHELLS as readonly string[]).includes(shell)) {
      return Promise.reject(
        new UsageError(
          `completion: unknown shell ${JSON.stringify(shell ?? '')}`,
          `use one of: ${SHELLS.join(', ')}`,
        ),
      )
    }
    // the command list includes this command: the command line hands it over
    if (!deps.commandDocs)
      return Promise.reject(new Error('completion: the command line gave no command list'))
    return Promise.resolve({
      view: 'completion',
      data: { shell: shell as CompletionData['shell'], commands: deps.commandDocs() },
      exitCode: 0,
    })
  },
}
