#!/bin/sh
# Lambda exec wrapper (AWS_LAMBDA_EXEC_WRAPPER) for the detection functions: caps V8's young
# generation, then starts the runtime exactly as Lambda asked.
#
# Lambda runs this with the node binary and the runtime's own arguments. Its Node.js runtime
# gives the young generation a tenth of the function's memory (--max-semi-space-size=51 at the
# default 1,024 MB, 88 at 1,769 MB). The engine streams: almost everything it allocates dies
# young, and a young generation that large is slower (it no longer fits the caches) and larger
# (it is all touched). NODE_OPTIONS cannot lower it, the command line wins; so this rewrites
# that one argument to at most NODE_MAX_SEMI_SPACE_MIB (16, V8's own default on 64-bit) and
# leaves every other argument, and a smaller value, as it is. See lib/engine/README.md.
set -eu

cap=${NODE_MAX_SEMI_SPACE_MIB:-16}
case $cap in
  '' | *[!0-9]*)
    echo "heap-wrapper: NODE_MAX_SEMI_SPACE_MIB must be a whole number of MiB, not '$cap'" >&2
    exit 64
    ;;
esac

# Rebuilds "$@" in order (each argument shifted off the front, pushed on the back), so
# arguments with spaces survive.
for arg do
  shift
  case $arg in
    --max-semi-space-size=*)
      size=${arg#--max-semi-space-size=}
      case $size in
        '' | *[!0-9]*) ;; # not ours to judge: node reports it
        *) if [ "$size" -gt "$cap" ]; then arg=--max-semi-space-size=$cap; fi ;;
      esac
      ;;
  esac
  set -- "$@" "$arg"
done

exec "$@"
