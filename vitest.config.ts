import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      // The AWS SDK's own switch for its once-per-process notice that releases after January 2027
      // need Node 22: the project supports Node 20 until then (Lambda runs Node 22), and the
      // notice, once per test process, buries the test output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Tests talk to emulators on loopback only: a client that finds no credentials must fail,
      // never ask the EC2 instance metadata service.
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  },
});
