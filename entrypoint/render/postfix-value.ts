/** The one gate for every value written to a Postfix file: a line break would inject settings. */
export class UnsafeValueError extends Error {
  readonly code = 'UNSAFE_VALUE';

  constructor(readonly setting: string) {
    super(`${setting}: refusing to write a value with CR, LF or NUL to a Postfix file`);
    this.name = 'UnsafeValueError';
  }
}

export function checkPostfixValue(setting: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new UnsafeValueError(setting);
  return value;
}
