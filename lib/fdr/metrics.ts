/** EMF metric names of the poller (service t1102-fdr). */
export const FDR_METRIC = {
  messagesReceived: 'FdrMessagesReceived',
  messagesDeleted: 'FdrMessagesDeleted',
  messagesKept: 'FdrMessagesKept',
  objectsCopied: 'FdrObjectsCopied',
  objectsSkipped: 'FdrObjectsSkipped',
  objectsMissing: 'FdrObjectsMissing',
  objectsFailed: 'FdrObjectsFailed',
  bytesCopied: 'FdrBytesCopied',
} as const;
