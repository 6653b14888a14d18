import { createEnvReader, type Env, type EnvReader } from '../../config/env.ts';
import { ConfigError } from '../errors.ts';

// https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html:
// EventBusName is a name or an ARN (a bus in another account is named by its ARN).
const EVENT_BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const EVENT_BUS_ARN =
  /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[/.\-_A-Za-z0-9]{1,256}$/;
// A finding imported by the account itself names the account's `default` product.
// https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-custom-providers.html
const SECURITY_HUB_PRODUCT_ARN =
  /^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(\d{12}):product\/\1\/default$/;

/** The optional alert routes besides SNS; each is off when its variable is unset. */
export interface SinkConfig {
  /** ALERT_EVENT_BUS: the bus name or ARN each finding is put on. */
  eventBus: string | undefined;
  /** SECURITY_HUB_PRODUCT_ARN: findings are imported into Security Hub under this product. */
  securityHubProductArn: string | undefined;
}

/**
 * The routes as far as they can be read (lib/config/env.ts names the variables); every problem
 * goes to `reader`, so the handler reports them with the function's other settings.
 */
export function readSinkConfig(reader: EnvReader): SinkConfig {
  const eventBus = reader.text('ALERT_EVENT_BUS');
  if (eventBus !== undefined && !EVENT_BUS_NAME.test(eventBus) && !EVENT_BUS_ARN.test(eventBus)) {
    reader.problem(`ALERT_EVENT_BUS is not an event bus name or ARN: ${JSON.stringify(eventBus)}`);
  }
  const securityHubProductArn = reader.text('SECURITY_HUB_PRODUCT_ARN');
  if (
    securityHubProductArn !== undefined &&
    !SECURITY_HUB_PRODUCT_ARN.test(securityHubProductArn)
  ) {
    reader.problem(
      `SECURITY_HUB_PRODUCT_ARN must be arn:<partition>:securityhub:<region>:<account>:product/<account>/default, got ${JSON.stringify(securityHubProductArn)}`,
    );
  }
  return { eventBus, securityHubProductArn };
}

/** Reads the routes alone; ConfigError names every problem. */
export function loadSinkConfig(env: Env): SinkConfig {
  const reader = createEnvReader(env);
  const config = readSinkConfig(reader);
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return config;
}
