/**
 * Errors inside the EVTX reader. None leaves the parser: each becomes a located skip
 * (`onSkip`) of the record it was found in, and the parse goes on.
 */
export class EvtxError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EvtxError';
  }
}

/** Binary XML that cannot be walked: a bad token, an offset outside its bounds, too deep. */
export class EvtxBinXmlError extends EvtxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EvtxBinXmlError';
  }
}

/** A substitution or inline value that cannot be rendered. */
export class EvtxValueError extends EvtxError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EvtxValueError';
  }
}
