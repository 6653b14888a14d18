import { describe, expect, it } from 'vitest';
import { lambdaHeapFlags } from './lambda-heap.ts';

describe("The bench's Lambda heap flags", () => {
  it.each([
    // new space = memory / 10, semi-space = half of it, old space = the rest (whole MB)
    [1024, 51, 922],
    [1769, 88, 1593],
    [128, 6, 116],
  ])('at %i MB: semi-space %i MB, old space %i MB', (memory, semi, old) => {
    expect(lambdaHeapFlags(memory)).toEqual([
      '--expose-gc',
      `--max-semi-space-size=${semi}`,
      `--max-old-space-size=${old}`,
    ]);
  });
});
