// Test runner settings. Integration tests start real servers and PostgreSQL schemas,
// so they get more time than unit tests; each test file cleans up what it starts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/cache-home.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
