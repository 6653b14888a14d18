/**
 * The heap flags Lambda's Node.js runtime starts node with for a function of `memoryMb`: its
 * bootstrap (in AWS's Node.js base images) gives a tenth of the memory to the young generation
 * (two semi-spaces) and the rest to the old one, in whole MB, and adds `--expose-gc`.
 */
export function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    '--expose-gc',
    `--max-semi-space-size=${Math.floor(newSpace / 2)}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
  ];
}
