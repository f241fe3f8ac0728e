// npm run lint: typescript-eslint's strict and stylistic rules, with type information, on every .ts file.
import eslint from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'node_modules/', 'test/fixtures/'] },
  eslint.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.strictTypeChecked, tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // a number in a message is what the message is for; the rule's default is for objects and undefined
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `(v) => (x = v)` and `() => resolve()` as callbacks say what they do; a block adds nothing
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // `{ password: _password, ...rest }` drops a field; `_` marks a value counted, not used
      '@typescript-eslint/no-unused-vars': [
        'error',
        { ignoreRestSiblings: true, varsIgnorePattern: '^_', argsIgnorePattern: '^_' },
      ],
      // an empty arrow is the deliberate no-op (a rejection let go, a quiet logger); empty methods still fail
      '@typescript-eslint/no-empty-function': ['error', { allow: ['arrowFunctions'] }],
      // `env.HOME || '.'` and `a.append || a.fromServer`: an empty string and false mean "not given" there
      '@typescript-eslint/prefer-nullish-coalescing': [
        'error',
        { ignorePrimitives: { string: true, boolean: true } },
      ],
    },
  },
  {
    // Tests and the benchmark read pjctl's JSON output and the AMI answers as they come (untyped),
    // and index rows they have just asserted: a missing value fails the assertion, so `!` and
    // `any` there are the test's expectation, not a hole in src/'s types. Their fakes implement
    // async interfaces without awaiting, remove variables from env copies, and match control
    // characters to check that pjctl escapes them.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-dynamic-delete': 'off',
      'no-control-regex': 'off',
      // a fault hook set up before the child it kills is spawned reads the variable first
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
)
