import { createTransport } from 'nodemailer';

export interface OutgoingMessage {
  readonly from: string;
  readonly to: readonly string[];
  /** The whole message, headers and body, with CRLF line ends. */
  readonly raw: Buffer;
}

/** Hands one message to the relay over plain SMTP, as a local app would. */
export async function sendMail(port: number, message: OutgoingMessage, host = '127.0.0.1', localAddress?: string): Promise<string> {
  const transport = createTransport({
    host,
    port,
    secure: false,
    ignoreTLS: true,
    ...(localAddress ? { localAddress } : {}),
    connectionTimeout: 10_000,
  });
  try {
    const info = await transport.sendMail({ envelope: { from: message.from, to: [...message.to] }, raw: message.raw });
    return info.response;
  } finally {
    transport.close();
  }
}

/** A message whose body is easy to compare byte for byte and would show any rewriting. */
export function makeTestMessage(from: string, to: string, id: string, bodyLines = 20): OutgoingMessage {
  const body = Array.from({ length: bodyLines }, (_, i) => `line ${i} of ${id}: the quick brown fox jumps over the lazy dog. =?!#$%&'*+/`).join('\r\n');
  const headers = [`From: <${from}>`, `To: <${to}>`, `Subject: gmail-relay test ${id}`, `Message-ID: <${id}@gmail-relay.test>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii'];
  return { from, to: [to], raw: Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}\r\n`) };
}

export function bodyOf(raw: Buffer): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  return end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4);
}
