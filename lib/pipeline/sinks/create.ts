import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import {
  type ClientTimeouts,
  DEFAULT_CLIENT_TIMEOUTS,
  requestHandlerOptions,
  sdkLogger,
} from '../clients.ts';
import type { PipelineLogger } from '../telemetry.ts';
import type { SinkConfig } from './config.ts';
import { type EventBridgeSend, EventBridgeSink } from './eventbridge.ts';
import { type AlertSink, fanOut } from './fanout.ts';
import { type SecurityHubSend, SecurityHubSink } from './securityhub.ts';

export interface SinkClients {
  region?: string | undefined;
  /** AWS_ENDPOINT_URL (local emulators); per-service endpoints override it. */
  endpoint?: string | undefined;
  eventBridgeEndpoint?: string | undefined;
  securityHubEndpoint?: string | undefined;
  /** The same request and connection timeouts as the function's other clients. */
  timeouts?: ClientTimeouts;
  /** Where the SDK's own warnings go (see sdkLogger). */
  logger?: PipelineLogger;
  /** Injected by tests; otherwise built from the settings above when the route is on. */
  eventBridge?: EventBridgeSend;
  securityHub?: SecurityHubSend;
}

/**
 * The publisher the object processor gets: `primary` (SNS) alone, or fanned out to the optional
 * EventBridge and Security Hub routes the configuration turns on.
 */
export function createAlertSinks(
  primary: Omit<AlertSink, 'name'> & { name?: string },
  config: SinkConfig,
  clients: SinkClients = {},
): AlertSink {
  const client = (serviceEndpoint: string | undefined) => {
    const endpoint = serviceEndpoint || clients.endpoint;
    return {
      ...(clients.region === undefined ? {} : { region: clients.region }),
      ...(endpoint === undefined ? {} : { endpoint }),
      requestHandler: requestHandlerOptions(clients.timeouts ?? DEFAULT_CLIENT_TIMEOUTS),
      ...(clients.logger === undefined ? {} : { logger: sdkLogger(clients.logger) }),
    };
  };
  const sinks: AlertSink[] = [{ name: primary.name ?? 'sns', publish: (m) => primary.publish(m) }];
  if (config.eventBus !== undefined) {
    const eb = clients.eventBridge ?? new EventBridgeClient(client(clients.eventBridgeEndpoint));
    sinks.push(new EventBridgeSink(eb, config.eventBus));
  }
  if (config.securityHubProductArn !== undefined) {
    const sh = clients.securityHub ?? new SecurityHubClient(client(clients.securityHubEndpoint));
    sinks.push(new SecurityHubSink(sh, config.securityHubProductArn));
  }
  return fanOut(sinks);
}
