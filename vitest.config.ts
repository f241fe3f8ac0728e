// `npm test`: everything except the opt-in real-Asterisk suite (test/asterisk/, `npm run test:asterisk`).
import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    exclude: [...configDefaults.exclude, 'test/asterisk/**'],
  },
})
