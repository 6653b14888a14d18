import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { FdrSecretError } from './errors.ts';

/** CrowdStrike's FDR access key, as the secret holds it. */
export interface FdrCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Reads CrowdStrike's credentials; the poller knows nothing else of Secrets Manager. */
export interface SecretReader {
  read(secretId: string): Promise<FdrCredentials>;
}

/** The one Secrets Manager call the poller makes. */
export interface SecretsManagerSend {
  send(command: GetSecretValueCommand): Promise<GetSecretValueCommandOutput>;
}

/** The secret's documented shape; the message never echoes the secret's content. */
const SECRET_SHAPE = '{"accessKeyId": "<FDR access key>", "secretAccessKey": "<FDR secret key>"}';

/** Credentials are read again after this long, so a rotated key is picked up within minutes. */
export const SECRET_CACHE_MS = 5 * 60_000;

/** Parses the secret string; a wrong shape names what is expected, never what was found. */
export function parseCredentials(secretId: string, text: string | undefined): FdrCredentials {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new FdrSecretError(secretId, `SecretString is not JSON; store ${SECRET_SHAPE}`);
  }
  const v = value as Partial<Record<keyof FdrCredentials, unknown>> | null;
  if (
    typeof v?.accessKeyId !== 'string' ||
    v.accessKeyId === '' ||
    typeof v.secretAccessKey !== 'string' ||
    v.secretAccessKey === ''
  ) {
    throw new FdrSecretError(
      secretId,
      `SecretString lacks accessKeyId or secretAccessKey; store ${SECRET_SHAPE}`,
    );
  }
  return { accessKeyId: v.accessKeyId, secretAccessKey: v.secretAccessKey };
}

/** GetSecretValue, with errors that say what to do about them. */
export function secretsManagerReader(client: SecretsManagerSend): SecretReader {
  return {
    async read(secretId) {
      let out: GetSecretValueCommandOutput;
      try {
        out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      } catch (err) {
        const e = err as Error;
        const hint =
          e.name === 'ResourceNotFoundException'
            ? `does not exist; create it with ${SECRET_SHAPE}`
            : `GetSecretValue failed: ${e.name}: ${e.message}`;
        throw new FdrSecretError(secretId, hint, { cause: err });
      }
      return parseCredentials(secretId, out.SecretString);
    },
  };
}

/** Keeps what `reader` read for `ttlMs`; failures are never cached. */
export function cachedSecretReader(
  reader: SecretReader,
  ttlMs = SECRET_CACHE_MS,
  now: () => number = Date.now,
): SecretReader {
  const cache = new Map<string, { at: number; value: FdrCredentials }>();
  return {
    async read(secretId) {
      const hit = cache.get(secretId);
      if (hit !== undefined && now() - hit.at < ttlMs) return hit.value;
      const value = await reader.read(secretId);
      cache.set(secretId, { at: now(), value });
      return value;
    },
  };
}
