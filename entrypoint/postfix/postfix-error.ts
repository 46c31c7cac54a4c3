/** A Postfix tool failed; the message carries what it printed (never a password: maps are not echoed). */
export class PostfixError extends Error {
  constructor(
    readonly code: 'POSTMAP_FAILED' | 'POSTFIX_CHECK_FAILED' | 'POSTFIX_START_FAILED' | 'INSTALL_FAILED',
    message: string,
  ) {
    super(message);
    this.name = 'PostfixError';
  }
}
