import { isIP } from 'node:net';
import { makeValidator } from 'envalid';
import { formatCidr, networkOf, parseCidr } from './cidr.js';

// Messages below never repeat the value: it may be a password.

/** Characters no Postfix file can hold without breaking its line structure. */
export const UNSAFE_CHARACTERS = /[\r\n\0]/;

export function checkSafeText(input: string): string {
  if (input === '') throw new Error('is empty; set a value or leave the variable out');
  if (UNSAFE_CHARACTERS.test(input)) {
    throw new Error('contains a line break (CR or LF) or a NUL character, which a Postfix setting cannot hold');
  }
  return input;
}

export const text = makeValidator<string>(checkSafeText);

export const port = makeValidator<number>((input) => {
  if (!/^\d{1,5}$/.test(input) || Number(input) < 1 || Number(input) > 65535) {
    throw new Error('must be a port number from 1 to 65535');
  }
  return Number(input);
});

export const wholeNumber = makeValidator<number>((input) => {
  if (!/^\d{1,9}$/.test(input)) throw new Error('must be a whole number of seconds, 0 or more');
  return Number(input);
});

export const positiveInteger = makeValidator<number>((input) => {
  if (!/^\d{1,15}$/.test(input) || Number(input) < 1) throw new Error('must be a whole number greater than 0');
  return Number(input);
});

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export function isHostName(input: string): boolean {
  return HOST_NAME.test(input);
}

export const hostName = makeValidator<string>((input) => {
  if (!isHostName(input) && isIP(input) === 0) {
    throw new Error('must be a host name such as smtp.example.com or an IP address');
  }
  return input;
});

export const ipAddress = makeValidator<string>((input) => {
  if (isIP(input) === 0) throw new Error('must be one IP address of the container, such as 127.0.0.1 or ::1');
  return input;
});

export const emailAddress = makeValidator<string>((input) => {
  checkSafeText(input);
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(input)) throw new Error('must be an e-mail address such as you@gmail.com');
  return input;
});

/** Comma- or space-separated CIDRs, normalised to "address/prefix". */
export const networkList = makeValidator<readonly string[]>((input) => {
  const items = splitList(input);
  if (items.length === 0) throw new Error('is empty; give at least one network such as 192.168.1.0/24');
  const malformed = items.filter((item) => parseCidr(item) === undefined);
  if (malformed.length > 0) {
    throw new Error(`has entries that are not IPv4 or IPv6 networks: ${malformed.join(', ')} (write e.g. 10.0.0.0/8 or fd00::/64)`);
  }
  // Host bits are dropped (10.0.0.7/8 → 10.0.0.0/8), as Postfix would otherwise warn.
  return items.map((item) => formatCidr(networkOf(parseCidr(item)!)));
});

export function splitList(input: string): string[] {
  return input.split(/[\s,]+/).filter((item) => item !== '');
}

export function oneOf<T extends string>(choices: readonly T[]) {
  return makeValidator<T>((input) => {
    const match = choices.find((choice) => choice === input.trim().toLowerCase());
    if (match === undefined) throw new Error(`must be one of: ${choices.join(', ')}`);
    return match;
  });
}

export const yesNo = makeValidator<boolean>((input) => {
  const normalised = input.trim().toLowerCase();
  if (['yes', 'true', '1', 'on'].includes(normalised)) return true;
  if (['no', 'false', '0', 'off'].includes(normalised)) return false;
  throw new Error('must be yes or no (true/false, on/off and 1/0 work too)');
});

/** Comma- or space-separated domain names, lower-cased. */
export const domainList = makeValidator<readonly string[]>((input) => {
  const items = splitList(input).map((item) => item.toLowerCase().replace(/^@/, ''));
  if (items.length === 0) throw new Error('is empty; give at least one domain such as example.com, or leave it unset');
  const malformed = items.filter((item) => !isHostName(item) || !item.includes('.'));
  if (malformed.length > 0) throw new Error(`has entries that are not domain names: ${malformed.join(', ')} (write e.g. example.com)`);
  return items;
});

/** Postfix spaces deliveries in whole seconds, so the finest pace is one a second. */
export const messagesPerMinute = makeValidator<number>((input) => {
  if (!/^\d{1,2}$/.test(input) || Number(input) < 1 || Number(input) > 60) {
    throw new Error('must be a number of messages per minute from 1 to 60 (Postfix spaces deliveries by whole seconds)');
  }
  return Number(input);
});
