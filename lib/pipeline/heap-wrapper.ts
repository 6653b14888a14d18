import { fileURLToPath } from 'node:url';

/**
 * The Lambda exec wrapper script beside this file (heap-wrapper.sh): infra ships it in each
 * function's package, and the benchmark starts the paths through it (`--lambda-wrapper`).
 */
export const HEAP_WRAPPER_SOURCE = fileURLToPath(new URL('./heap-wrapper.sh', import.meta.url));
